//! Options read as musl's `getopt_long` reads them: BusyBox's `getopt32`
//! hands its option string and long options to it (libbb/getopt32.c), so
//! this is how `wget` and `nc` in an Alpine or BusyBox image parse their
//! command line. Short options bundle (`-qO-`) and take their argument
//! attached or as the next word (`-T2`, `-T 2`); long options take it after
//! `=` or as the next word (`--timeout=2`, `--timeout 2`) and may be
//! shortened to any unambiguous prefix; options and operands mix (musl
//! permutes), and `--` ends the options. The messages are musl's
//! (`src/misc/getopt.c`, `getopt_long.c`): `unrecognized option: z`,
//! `option requires an argument: T`, `option is ambiguous: no`.

/// A long option: its name, whether it takes an argument, and the short
/// option it stands for (`None` when it has none).
pub(super) type Long = (&'static str, bool, Option<char>);

/// One option as given: the short letter it stands for, or the long name
/// when it has no letter, and its argument.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Opt {
    pub key: String,
    pub value: Option<String>,
}

/// The options in order, and the operands.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Parsed {
    pub opts: Vec<Opt>,
    pub operands: Vec<String>,
}

impl Parsed {
    /// How many times `key` was given (`-vv` is two).
    pub fn count(&self, key: &str) -> usize {
        self.opts.iter().filter(|o| o.key == key).count()
    }

    pub fn has(&self, key: &str) -> bool {
        self.count(key) > 0
    }

    /// The last argument given to `key`.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.opts.iter().rev().find(|o| o.key == key).and_then(|o| o.value.as_deref())
    }
}

/// Reads `args` against `short` (getopt's string: a letter, `:` after it
/// when it takes an argument) and `long`. The error is musl's message
/// without the program's name.
pub(super) fn parse(short: &str, long: &[Long], args: &[String]) -> Result<Parsed, String> {
    let takes = |c: char| short.find(c).map(|i| short[i + c.len_utf8()..].starts_with(':'));
    let mut out = Parsed::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--" {
            out.operands.extend(it.by_ref().cloned());
            break;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let (name, attached) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (body, None),
            };
            let exact = long.iter().find(|l| l.0 == name);
            let found = match exact {
                Some(l) => l,
                None => {
                    let mut matches = long.iter().filter(|l| l.0.starts_with(name));
                    match (matches.next(), matches.next()) {
                        (Some(l), None) if !name.is_empty() => l,
                        (Some(_), Some(_)) => return Err(format!("option is ambiguous: {name}")),
                        _ => return Err(format!("unrecognized option: {body}")),
                    }
                }
            };
            let (full, wants, letter) = *found;
            let value = match (wants, attached) {
                (false, Some(_)) => return Err(format!("option does not take an argument: {full}")),
                (false, None) => None,
                (true, Some(v)) => Some(v),
                (true, None) => Some(it.next().cloned().ok_or_else(|| format!("option requires an argument: {full}"))?),
            };
            let key = letter.map_or_else(|| full.to_owned(), String::from);
            out.opts.push(Opt { key, value });
            continue;
        }
        let Some(letters) = arg.strip_prefix('-').filter(|l| !l.is_empty()) else {
            out.operands.push(arg.clone());
            continue;
        };
        for (i, c) in letters.char_indices() {
            let wants = if c == ':' { None } else { takes(c) };
            match wants {
                None => return Err(format!("unrecognized option: {c}")),
                Some(false) => out.opts.push(Opt { key: c.into(), value: None }),
                Some(true) => {
                    let rest = &letters[i + c.len_utf8()..];
                    let value = if rest.is_empty() {
                        it.next().cloned().ok_or_else(|| format!("option requires an argument: {c}"))?
                    } else {
                        rest.to_owned()
                    };
                    out.opts.push(Opt { key: c.into(), value: Some(value) });
                    break;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: &[Long] = &[
        ("timeout", true, Some('T')),
        ("quiet", false, Some('q')),
        ("spider", false, None),
        ("no-cache", false, None),
        ("no-parent", false, None),
    ];

    fn run(words: &str) -> Result<Parsed, String> {
        let args: Vec<String> = words.split(' ').map(String::from).collect();
        parse("cqSO:T:", LONG, &args)
    }

    #[test]
    fn every_form_busybox_documents() {
        // `wget -qO- --timeout=2 http://web`, the network-policy recipes' form.
        let p = run("-qO- --timeout=2 http://web").unwrap();
        assert!(p.has("q"));
        assert_eq!(p.value("O"), Some("-"));
        assert_eq!(p.value("T"), Some("2"));
        assert_eq!(p.operands, ["http://web"]);
        for form in ["-T2 x", "-T 2 x", "--timeout 2 x", "--time=2 x", "x -T2"] {
            let p = run(form).unwrap();
            assert_eq!((p.value("T"), p.operands.as_slice()), (Some("2"), ["x".to_owned()].as_slice()), "{form}");
        }
        assert_eq!(run("-- -q").unwrap().operands, ["-q"]);
    }

    #[test]
    fn musls_messages() {
        assert_eq!(run("-z x"), Err("unrecognized option: z".into()));
        assert_eq!(run("--foo x"), Err("unrecognized option: foo".into()));
        assert_eq!(run("--no x"), Err("option is ambiguous: no".into()));
        assert_eq!(run("x -T"), Err("option requires an argument: T".into()));
        assert_eq!(run("--spider=1 x"), Err("option does not take an argument: spider".into()));
    }
}
