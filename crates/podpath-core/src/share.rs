//! Share links: the scenario's text deflated and base64url-encoded into
//! the fragment (`#s=…`), so a link carries the whole scenario and nothing
//! is sent to a server; the switches ride along as `&cni=` and `&proxy=`.
//!
//! A link is untrusted input: `decode` reads at most [`MAX_LINK_BYTES`] of
//! it and inflates at most [`crate::load::MAX_INPUT_BYTES`], so a crafted
//! link can neither hold the page nor blow up in memory.

use data_encoding::BASE64URL_NOPAD;

use crate::{Cni, Overrides, ProxyMode};

/// The longest fragment `decode` reads: 1 MiB, half of what Chromium
/// accepts in a URL, and more than any chat or mail keeps whole.
pub const MAX_LINK_BYTES: usize = 1024 * 1024;

/// The fragment for a scenario and its switches.
pub fn encode(text: &str, overrides: &Overrides) -> String {
    let packed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
    let mut frag = format!("s={}", BASE64URL_NOPAD.encode(&packed));
    if let Some(c) = overrides.cni {
        frag.push_str(&format!("&cni={}", c.as_str()));
    }
    if let Some(m) = overrides.proxy_mode {
        frag.push_str(&format!("&proxy={}", m.as_str()));
    }
    frag
}

/// The scenario and switches a fragment carries; `Err` says what is wrong
/// with it (cut short in a chat message, say).
pub fn decode(fragment: &str) -> Result<(String, Overrides), String> {
    if fragment.len() > MAX_LINK_BYTES {
        return Err(format!(
            "the link is {} KiB, longer than the {} KiB podpath reads; share the scenario as a file instead",
            fragment.len() / 1024,
            MAX_LINK_BYTES / 1024
        ));
    }
    let mut text = None;
    let mut overrides = Overrides::default();
    for part in fragment.trim_start_matches('#').split('&') {
        match part.split_once('=') {
            Some(("s", v)) => {
                let packed = BASE64URL_NOPAD
                    .decode(v.as_bytes())
                    .map_err(|e| format!("the link's scenario is damaged ({e})"))?;
                let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, crate::load::MAX_INPUT_BYTES)
                    .map_err(|e| match e.status {
                    miniz_oxide::inflate::TINFLStatus::HasMoreOutput => format!(
                        "the link's scenario inflates past {} MiB, podpath's input limit",
                        crate::load::MAX_INPUT_BYTES / (1024 * 1024)
                    ),
                    _ => "the link's scenario is damaged (it does not inflate)".to_owned(),
                })?;
                text = Some(String::from_utf8(bytes).map_err(|_| "the link's scenario is not UTF-8 text".to_owned())?);
            }
            Some(("cni", v)) => overrides.cni = Cni::parse(v),
            Some(("proxy", v)) => overrides.proxy_mode = ProxyMode::parse(v),
            _ => {}
        }
    }
    text.map(|t| (t, overrides)).ok_or_else(|| "the link carries no scenario".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_round_trips_and_a_cut_one_says_so() {
        let text = include_str!("../../../web/scenarios/shop.yaml");
        let o = Overrides { cni: Some(Cni::Cilium), ..Overrides::default() };
        let frag = encode(text, &o);
        assert!(frag.len() < text.len(), "compressed: {} < {}", frag.len(), text.len());
        let (back, o2) = decode(&format!("#{frag}")).unwrap();
        assert_eq!((back.as_str(), o2.cni), (text, Some(Cni::Cilium)));
        let cut = &frag[..frag.len() / 2];
        assert!(decode(cut).unwrap_err().contains("damaged"));
        assert!(decode("x=1").is_err());
    }

    #[test]
    fn a_link_that_inflates_past_the_input_limit_is_refused() {
        let big = "#".repeat(crate::load::MAX_INPUT_BYTES + 1);
        let frag = encode(&big, &Overrides::default());
        assert!(frag.len() < 64 * 1024, "{}", frag.len());
        let e = decode(&frag).unwrap_err();
        assert_eq!(e, "the link's scenario inflates past 16 MiB, podpath's input limit");
        let long = format!("s={}", "A".repeat(MAX_LINK_BYTES));
        assert!(decode(&long).unwrap_err().starts_with("the link is 1024 KiB, longer than the 1024 KiB"));
    }
}
