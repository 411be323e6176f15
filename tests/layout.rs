//! CONTRIBUTING.md's "Where things live" table is true: every module of `src/` has a line, and
//! no module's shipped code uses a module of ours its line does not allow. Unit tests (a file's
//! `#[cfg(test)]` tail, `*_tests.rs`, `testing.rs`) may use more.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Each module's line of the table: the modules it may use.
fn allowed_uses() -> BTreeMap<String, BTreeSet<String>> {
    let text = fs::read_to_string(Path::new(ROOT).join("CONTRIBUTING.md")).unwrap();
    let start = text
        .find("## Where things live")
        .expect("CONTRIBUTING.md has a 'Where things live' section");
    let section = &text[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |end| end + 3)];
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    for line in section.lines().filter(|line| line.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let module = cells[1].trim_matches('`').to_owned();
        rows.push((module, backticked(cells[3])));
    }
    let modules: BTreeSet<String> = rows.iter().map(|(module, _)| module.clone()).collect();
    rows.into_iter()
        .map(|(module, words)| {
            let uses = words.into_iter().filter(|word| modules.contains(word)).collect();
            (module, uses)
        })
        .collect()
}

fn backticked(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// The top-level modules of `src/`, each with its files.
fn modules() -> BTreeMap<String, Vec<PathBuf>> {
    let src = Path::new(ROOT).join("src");
    let mut modules = BTreeMap::new();
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            modules.insert(name, rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") && name != "lib" {
            modules.insert(name, vec![path]);
        }
    }
    modules
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// The modules of ours that the shipped part of `file` uses (comments and unit tests left out).
fn uses_of(file: &Path, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let name = file.file_name().unwrap().to_string_lossy();
    if name.ends_with("_tests.rs") || name == "testing.rs" {
        return BTreeSet::new();
    }
    let text = fs::read_to_string(file).unwrap();
    let shipped = text.split("#[cfg(test)]\nmod tests").next().unwrap();
    let mut uses = BTreeSet::new();
    for line in shipped.lines() {
        let code = line.split("//").next().unwrap();
        for prefix in ["crate::", "dialpad_teams_operator::"] {
            for (at, _) in code.match_indices(prefix) {
                let rest = &code[at + prefix.len()..];
                let module: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if modules.contains(&module) {
                    uses.insert(module);
                }
            }
        }
    }
    uses
}

#[test]
fn every_module_of_src_has_a_line_in_where_things_live() {
    let allowed = allowed_uses();
    let listed: BTreeSet<&String> = allowed.keys().collect();
    let present = modules();
    let missing: Vec<&String> = present.keys().filter(|module| !listed.contains(module)).collect();
    let stale: Vec<&&String> = listed
        .iter()
        .filter(|module| !present.contains_key(**module))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "CONTRIBUTING.md's 'Where things live' lacks {missing:?} and names {stale:?}, which src/ does not have"
    );
}

#[test]
fn no_module_uses_one_its_line_does_not_allow() {
    let allowed = allowed_uses();
    let names: BTreeSet<String> = allowed.keys().cloned().collect();
    let mut unexpected = Vec::new();
    for (module, files) in modules() {
        let Some(may_use) = allowed.get(&module) else {
            continue;
        };
        for file in files {
            for used in uses_of(&file, &names) {
                if used != module && !may_use.contains(&used) {
                    let file = file.strip_prefix(ROOT).unwrap().display().to_string();
                    unexpected.push(format!("{file} uses `{used}`"));
                }
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "not allowed by CONTRIBUTING.md's 'Where things live' (move the code, or change the table if the new arrow is right):\n{}",
        unexpected.join("\n")
    );
}

#[test]
fn the_sync_core_uses_neither_the_graph_client_nor_dialpad() {
    let names: BTreeSet<String> = ["dialpad".to_owned()].into();
    for file in rust_files(&Path::new(ROOT).join("src/sync")) {
        let text = fs::read_to_string(&file).unwrap();
        let code: String = text
            .lines()
            .map(|line| line.split("//").next().unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            !code.contains("microsoft::graph") && uses_of(&file, &names).is_empty(),
            "{} reaches the Graph or Dialpad client; translate in src/connect/adapters.rs instead",
            file.display()
        );
    }
}
