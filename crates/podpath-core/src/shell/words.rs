//! A command line split into words as a POSIX shell splits it: blanks
//! separate words; single quotes keep everything; double quotes keep all
//! but `\` before `"`, `\`, `$` and a backtick; a backslash outside quotes
//! keeps the next character. No expansion, globbing or pipes: podpath's
//! tools take their arguments as written.

/// Why a line could not be split, in bash's words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("unexpected EOF while looking for matching `{0}'")]
    Unclosed(char),
}

/// The words of `line`.
///
/// ```
/// use podpath_core::shell::words::split;
/// assert_eq!(split(r#"curl -H 'X-A: 1' "http://web/a b" c\ d"#).unwrap(),
///            ["curl", "-H", "X-A: 1", "http://web/a b", "c d"]);
/// ```
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word has started even when it is empty so far (`''`).
    let mut started = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            '\'' => {
                started = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(SplitError::Unclosed('\'')),
                    }
                }
            }
            '"' => {
                started = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(SplitError::Unclosed('"')),
                        },
                        Some(c) => word.push(c),
                        None => return Err(SplitError::Unclosed('"')),
                    }
                }
            }
            '\\' => {
                started = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(c) => word.push(c),
                }
            }
            c => {
                started = true;
                word.push(c);
            }
        }
    }
    if started {
        words.push(word);
    }
    Ok(words)
}

/// `word` quoted for a shell when it needs it, so a completed or echoed
/// command line splits back into the same words.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_as_a_shell_does() {
        assert_eq!(split("  a   b\tc ").unwrap(), ["a", "b", "c"]);
        assert_eq!(split("''").unwrap(), [""]);
        assert_eq!(split(r#"a"b c"d"#).unwrap(), ["ab cd"]);
        assert_eq!(split(r#""a\"b\n""#).unwrap(), [r#"a"b\n"#]);
        assert_eq!(split(r"'a\b'").unwrap(), [r"a\b"]);
        assert_eq!(split("it\\'s").unwrap(), ["it's"]);
        assert!(split("").unwrap().is_empty());
        assert_eq!(split("'open"), Err(SplitError::Unclosed('\'')));
        assert_eq!(split("\"open").unwrap_err().to_string(), "unexpected EOF while looking for matching `\"'");
    }

    #[test]
    fn quote_splits_back() {
        for w in ["plain", "a b", "it's", "", "X-A: 1", "$HOME", "10.0.0.1:80"] {
            assert_eq!(split(&quote(w)).unwrap(), [w], "{w}");
        }
    }
}
