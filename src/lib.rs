//! esmsim: a deterministic discrete-event simulator of AWS Lambda event source mappings (ESM)
//! reading Kafka / Amazon MSK topics.
//!
//! ```no_run
//! use esmsim::{load_scenario, SimulationBuilder};
//! let loaded = load_scenario("scenarios/quickstart.json".as_ref(), &[]).unwrap();
//! let (report, ()) = SimulationBuilder::new(&loaded.scenario).seed(7).build().run();
//! println!("{} records succeeded", report.summary.records.succeeded);
//! ```

pub mod engine;
pub mod error;
pub mod metrics;
pub mod model;
pub mod output;
pub mod scenario;
pub mod sim;

pub use error::{Error, Result};
pub use scenario::{Loaded, Scenario, Warning, load_scenario, parse_scenario};
pub use sim::{Observer, Outcome, Report, Simulation, SimulationBuilder};

use sha2::{Digest, Sha256};

/// A short hash of everything that shapes a run except its seed, name and description: two runs
/// with the same hash and seed give the same results.
pub fn config_hash(scenario: &Scenario) -> String {
    let mut canonical = serde_json::to_value(scenario).expect("scenario serialises");
    if let Some(map) = canonical.as_object_mut() {
        for key in ["seed", "name", "description"] {
            map.remove(key);
        }
    }
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}
