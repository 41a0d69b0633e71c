//! Every relative link in README.md and docs/*.md leads somewhere: the file exists, and a
//! `#anchor` names a heading of the page it points to (as GitHub makes anchors from headings).
//! Links to the web are not followed. Code, fenced or inline, is not read for links.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every Markdown page in docs/.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.expect("read docs/").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The page's prose: fenced code blocks dropped, inline code spans blanked out.
fn prose(markdown: &str) -> String {
    let mut kept = String::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    let mut out = String::new();
    let mut in_code = false;
    for c in kept.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            out.push(c);
        }
    }
    out
}

/// The targets of inline links and images, `[text](target)`, and of reference definitions,
/// `[name]: target`.
fn targets(markdown: &str) -> Vec<String> {
    let text = prose(markdown);
    let mut found = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let end = rest.find(')').expect("a link's target ends with ')'");
        // A title after the target ("target \"title\"") is not part of it.
        let target = rest[..end].split_whitespace().next().unwrap_or("");
        found.push(target.to_string());
    }
    for line in text.lines() {
        if let Some(definition) = line.strip_prefix('[')
            && let Some((_, target)) = definition.split_once("]:")
        {
            found.push(target.trim().to_string());
        }
    }
    found
}

/// GitHub's anchor for a heading: lower case, spaces to hyphens, other punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(page: &Path) -> Vec<String> {
    let markdown = fs::read_to_string(page).expect("read the page");
    prose_headings(&markdown)
        .map(|heading| anchor(&heading))
        .collect()
}

/// Headings outside fenced code, with their inline code's backticks kept out.
fn prose_headings(markdown: &str) -> impl Iterator<Item = String> + '_ {
    let mut fenced = false;
    markdown.lines().filter_map(move |line| {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            return None;
        }
        let heading = line.trim_start_matches('#');
        (!fenced && heading.len() < line.len() && heading.starts_with(' '))
            .then(|| heading.replace('`', ""))
    })
}

fn is_web(target: &str) -> bool {
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| target.starts_with(scheme))
}

#[test]
fn every_relative_link_in_the_readme_and_docs_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let markdown = fs::read_to_string(&page).expect("read the page");
        for target in targets(&markdown) {
            if target.is_empty() || is_web(&target) {
                continue;
            }
            checked += 1;
            let (path, fragment) = match target.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                page.clone()
            } else {
                page.parent().expect("a page's folder").join(path)
            };
            let name = page
                .strip_prefix(root())
                .unwrap_or(&page)
                .display()
                .to_string();
            if !file.exists() {
                broken.push(format!("{name}: {target}: no such file"));
            } else if let Some(fragment) = fragment
                && !anchors(&file).iter().any(|anchor| anchor == fragment)
            {
                broken.push(format!("{name}: {target}: no heading with that anchor"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    // The README alone links a dozen pages and a picture.
    assert!(checked >= 13, "only {checked} relative links found");
}

#[test]
fn links_are_found_where_a_reader_sees_them() {
    let markdown = "See [a](a.md), ![b](img/b.svg \"title\") and\n[c\nd](c.md#part).\n\
                    `[not](code.md)`\n```\n[not](fenced.md)\n```\n[ref]: r.md\n";
    assert_eq!(
        targets(markdown),
        ["a.md", "img/b.svg", "c.md#part", "r.md"]
    );
    assert_eq!(anchor("The README's picture"), "the-readmes-picture");
    assert_eq!(
        anchor("Blocking code inside `async fn`".replace('`', "").as_str()),
        "blocking-code-inside-async-fn"
    );
}
