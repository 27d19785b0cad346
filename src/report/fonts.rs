//! The bundled font. Plotters without its default features has no access to system fonts (no
//! fontconfig), so DejaVu Sans (licence in `assets/fonts/LICENSE-DejaVu.txt`) is compiled in and
//! registered under the family every chart asks for. Rendering is then the same on every machine.

use plotters::style::{FontStyle, register_font};
use std::sync::Once;

/// The family charts draw with; SVG readers fall back to their own sans-serif font.
pub const FAMILY: &str = "sans-serif";

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

static REGISTER: Once = Once::new();

/// Registers the bundled font once per process; call before drawing any text.
pub fn ensure_registered() {
    REGISTER.call_once(|| {
        for (style, bytes) in [(FontStyle::Normal, REGULAR), (FontStyle::Bold, BOLD)] {
            // The bytes are a compile-time constant, so a failure here is a build defect.
            assert!(register_font(FAMILY, style, bytes).is_ok(), "the bundled font does not parse");
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn bundled_fonts_parse() {
        super::ensure_registered();
    }
}
