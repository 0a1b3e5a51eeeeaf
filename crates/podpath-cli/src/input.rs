//! Reading `-f` inputs as kubectl does: files, directories (their `.yaml`,
//! `.yml` and `.json` files, sorted, not recursive) and `-` for stdin.

use std::io::Read;
use std::path::Path;

use podpath_core::Source;

pub fn read_all(paths: &[String]) -> Result<Vec<Source>, String> {
    let mut sources = Vec::new();
    for p in paths {
        if p == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| format!("reading standard input: {e}"))?;
            sources.push(Source::new("<stdin>", text));
            continue;
        }
        let path = Path::new(p);
        if path.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| format!("reading directory \"{p}\": {e}"))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| {
                    f.is_file() && matches!(f.extension().and_then(|x| x.to_str()), Some("yaml" | "yml" | "json"))
                })
                .collect();
            podpath_core::order::sort(&mut entries);
            for f in entries {
                sources.push(read_file(&f)?);
            }
        } else if path.exists() {
            sources.push(read_file(path)?);
        } else {
            return Err(format!("the path \"{p}\" does not exist"));
        }
    }
    Ok(sources)
}

fn read_file(path: &Path) -> Result<Source, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading \"{}\": {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("\"{}\" is not UTF-8 text", path.display()))?;
    Ok(Source::new(path.display().to_string(), text))
}
