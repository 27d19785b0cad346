//! A CloudFormation template (JSON): its `AWS::Lambda::EventSourceMapping` resource and the
//! `AWS::Lambda::Function` it invokes. Their properties use the Lambda API's names; `Ref`s to
//! template parameters take the parameter's `Default`, and a destination given as `Fn::GetAtt` /
//! `Ref` of a queue, topic or bucket in the template takes its kind from that resource's type.

use super::{Draft, esm, function};
use crate::error::{Error, Result};
use serde_json::{Map, Value, json};
use std::path::Path;

const MAPPING: &str = "AWS::Lambda::EventSourceMapping";
const FUNCTION: &str = "AWS::Lambda::Function";

pub fn apply(file: &Path, template: &Value, draft: &mut Draft) -> Result<()> {
    let resources = template
        .get("Resources")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::field(file, "Resources", "a template needs a Resources object"))?;
    let of_type = |kind: &str| -> Vec<(&String, &Value)> {
        resources.iter().filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind)).collect()
    };
    let (mapping_id, mapping) = only(file, &of_type(MAPPING), MAPPING)?;
    let parameters = template.get("Parameters").and_then(Value::as_object);
    let mut properties = properties_of(mapping, parameters);
    resolve_destination(&mut properties, resources);
    esm::apply(&properties, &format!("{}: Resources.{mapping_id}.Properties", file.display()), draft)?;

    let functions = of_type(FUNCTION);
    let target = properties.get("FunctionName").and_then(referenced);
    let chosen = match target {
        Some(id) => functions.iter().find(|(name, _)| **name == id).copied(),
        None if functions.len() == 1 => Some(functions[0]),
        None => None,
    };
    match chosen {
        Some((id, resource)) => {
            let api = properties_of(resource, parameters);
            function::apply(&api, &format!("{}: Resources.{id}.Properties", file.display()), draft)?;
        }
        None => draft.warnings.push(format!(
            "{}: the mapping's function is not a {FUNCTION} of this template; give --function FILE for memory and timeout",
            file.display()
        )),
    }
    Ok(())
}

/// The one resource of a type, or an error naming them all.
fn only<'a>(file: &Path, found: &[(&'a String, &'a Value)], kind: &str) -> Result<(&'a String, &'a Value)> {
    match found {
        [one] => Ok(*one),
        [] => Err(Error::field(file, "Resources", format!("has no {kind}"))),
        many => {
            let names: Vec<&str> = many.iter().map(|(n, _)| n.as_str()).collect();
            Err(Error::field(
                file,
                "Resources",
                format!("has {} {kind} resources ({}); import takes a template with one", many.len(), names.join(", ")),
            ))
        }
    }
}

/// A resource's `Properties`, with `{"Ref": PARAMETER}` replaced by the parameter's `Default`.
fn properties_of(resource: &Value, parameters: Option<&Map<String, Value>>) -> Map<String, Value> {
    let mut value = resource.get("Properties").cloned().unwrap_or_else(|| json!({}));
    substitute(&mut value, parameters);
    value.as_object().cloned().unwrap_or_default()
}

fn substitute(value: &mut Value, parameters: Option<&Map<String, Value>>) {
    if let Some(default) =
        value.get("Ref").and_then(Value::as_str).and_then(|name| parameters?.get(name)?.get("Default")).cloned()
    {
        // CloudFormation parameters of type Number still hold their defaults as strings.
        *value = match &default {
            Value::String(s) => s.parse::<i64>().map(Value::from).unwrap_or(default),
            _ => default,
        };
        return;
    }
    match value {
        Value::Object(map) => map.values_mut().for_each(|v| substitute(v, parameters)),
        Value::Array(items) => items.iter_mut().for_each(|v| substitute(v, parameters)),
        _ => {}
    }
}

/// The logical id in `{"Ref": ID}`, `{"Fn::GetAtt": [ID, ATTR]}` or `{"Fn::GetAtt": "ID.ATTR"}`.
fn referenced(value: &Value) -> Option<String> {
    if let Some(id) = value.get("Ref").and_then(Value::as_str) {
        return Some(id.to_string());
    }
    match value.get("Fn::GetAtt")? {
        Value::Array(parts) => parts.first()?.as_str().map(str::to_string),
        Value::String(dotted) => dotted.split('.').next().map(str::to_string),
        _ => None,
    }
}

/// A destination that names a resource of the template becomes an ARN of that resource's
/// service, so its kind can be read; `Fn::Sub` strings are read as written.
fn resolve_destination(properties: &mut Map<String, Value>, resources: &Map<String, Value>) {
    let Some(destination) =
        properties.get_mut("DestinationConfig").and_then(|d| d.pointer_mut("/OnFailure/Destination"))
    else {
        return;
    };
    if let Some(text) = destination.get("Fn::Sub").and_then(Value::as_str) {
        *destination = json!(text);
        return;
    }
    let Some(id) = referenced(destination) else { return };
    let service = match resources.get(&id).and_then(|r| r.get("Type")).and_then(Value::as_str) {
        Some("AWS::SQS::Queue") => "sqs",
        Some("AWS::SNS::Topic") => "sns",
        Some("AWS::S3::Bucket") => "s3",
        _ => return,
    };
    *destination = json!(format!("arn:aws:{service}:::{id}"));
}
