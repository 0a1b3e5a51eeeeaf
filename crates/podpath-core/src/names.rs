//! Names as Kubernetes controllers make them, and the seeded randomness
//! behind them.
//!
//! A Deployment's ReplicaSet is `<deployment>-<pod-template-hash>` and its
//! pods are `<replicaset>-<5 random characters>`, both drawn from the same
//! 27-character alphabet (no vowels, no 0/1/3, so no words and no look-alike
//! digits). Kubernetes hashes the template with FNV-32a over Go's printed
//! form of the struct; podpath hashes its JSON form instead, so the hash has
//! the real shape and changes exactly when the template changes, but is not
//! byte-for-byte the one a real cluster would show.

/// The alphabet of `k8s.io/apimachinery/pkg/util/rand`.
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// FNV-1a, 32 bits: the hash Kubernetes uses for `pod-template-hash`.
pub fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// FNV-1a, 64 bits: used to derive per-object seeds from names.
pub fn fnv64a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `rand.SafeEncodeString`: maps each byte of `s` into the alphabet.
pub fn safe_encode(s: &str) -> String {
    s.bytes().map(|b| char::from(ALPHANUMS[usize::from(b) % ALPHANUMS.len()])).collect()
}

/// The `pod-template-hash` label value for a serialized pod template.
pub fn pod_template_hash(template: &[u8]) -> String {
    safe_encode(&fnv32a(template).to_string())
}

/// A small, platform-stable PRNG (SplitMix64). Seeded explicitly; never
/// `usize`-dependent, so wasm32 and x86_64 draw the same numbers.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A generator for one named thing: the same name always gives the same
    /// stream, whatever else the input holds.
    pub fn for_name(name: &str) -> Self {
        Rng(fnv64a(name.as_bytes()))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// `utilrand.String(n)`: what `generateName` appends.
    pub fn suffix(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(ALPHANUMS[self.below(ALPHANUMS.len() as u64) as usize])).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_vectors() {
        // Published FNV-1a test vectors.
        assert_eq!(fnv32a(b""), 0x811c9dc5);
        assert_eq!(fnv32a(b"a"), 0xe40c292c);
        assert_eq!(fnv32a(b"foobar"), 0xbf9cf968);
        assert_eq!(fnv64a(b"a"), 0xaf63dc4c8601ec8c);
    }

    #[test]
    fn safe_encode_uses_the_kubernetes_alphabet() {
        // '0' is byte 48, 48 % 27 = 21 -> '4'; '9' is 57 % 27 = 3 -> 'f'.
        assert_eq!(safe_encode("09"), "4f");
        let h = pod_template_hash(b"{}");
        assert!(h.bytes().all(|b| ALPHANUMS.contains(&b)), "{h}");
        assert!((1..=10).contains(&h.len()));
    }

    #[test]
    fn rng_is_seeded_and_stable() {
        let a: Vec<u64> = (0..3).scan(Rng::new(7), |r, _| Some(r.next_u64())).collect();
        let b: Vec<u64> = (0..3).scan(Rng::new(7), |r, _| Some(r.next_u64())).collect();
        assert_eq!(a, b);
        assert_ne!(Rng::for_name("x").suffix(5), Rng::for_name("y").suffix(5));
        assert_eq!(Rng::for_name("x").suffix(5).len(), 5);
    }
}

/// Which rule an object's name must follow, as the API server validates
/// it (k8s.io/apimachinery `util/validation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// Most objects: at most 253 characters of `a-z0-9-.`, each
    /// dot-separated part starting and ending alphanumeric.
    Subdomain,
    /// Namespaces and Services: one such part, at most 63 characters.
    /// Services followed the stricter DNS-1035 label (a letter first)
    /// until KEP-5311 relaxed them to this rule; it is GA in Kubernetes
    /// 1.37, the version podpath models, so `1kubernetes` is a valid
    /// Service name.
    Label,
}

impl NameRule {
    /// The rule for an object of `kind`.
    pub fn for_kind(kind: &str) -> NameRule {
        match kind {
            "Service" | "Namespace" => NameRule::Label,
            _ => NameRule::Subdomain,
        }
    }

    /// Why `name` breaks the rule, in the API server's words; `None` when
    /// it is valid.
    pub fn check(self, name: &str) -> Option<String> {
        let label_ok = |l: &str| {
            let b = l.as_bytes();
            !b.is_empty()
                && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        };
        let (max, ok, message) = match self {
            NameRule::Subdomain => (
                253,
                name.split('.').all(label_ok),
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            ),
            NameRule::Label => (
                63,
                label_ok(name),
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            ),
        };
        let shown = name.chars().take(300).collect::<String>();
        if name.len() > max {
            Some(format!("Invalid value: \"{shown}\": must be no more than {max} characters"))
        } else if !ok {
            Some(format!("Invalid value: \"{shown}\": {message}"))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod name_tests {
    use super::NameRule;

    #[test]
    fn names_follow_the_api_servers_rules() {
        assert_eq!(NameRule::Subdomain.check("web-1.shop"), None);
        assert_eq!(NameRule::for_kind("Service").check("web"), None);
        assert_eq!(NameRule::Label.check("123-abc"), None);
        // KEP-5311 (GA in 1.37): a Service name is an RFC 1123 label, so it
        // may start with a digit; a dot is still refused.
        assert_eq!(NameRule::for_kind("Service").check("1kubernetes"), None);
        assert!(NameRule::for_kind("Service").check("api.v1").unwrap().contains("a lowercase RFC 1123 label"));
        assert!(NameRule::Subdomain
            .check("Web")
            .unwrap()
            .starts_with("Invalid value: \"Web\": a lowercase RFC 1123 subdomain"));
        assert!(NameRule::Subdomain.check("a..b").is_some());
        assert!(NameRule::Label.check("a.b").is_some());
        assert!(NameRule::Subdomain.check("-a").is_some());
        assert!(NameRule::Subdomain.check("<script>").is_some());
        assert_eq!(
            NameRule::Label.check(&"a".repeat(64)).unwrap(),
            format!("Invalid value: \"{}\": must be no more than 63 characters", "a".repeat(64))
        );
    }
}
