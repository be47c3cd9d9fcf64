//! The README's code table must be exactly what `mmerr list --markdown` prints.

use assert_cmd::Command;

#[test]
fn readme_code_table_matches_the_catalog() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let begin = "<!-- codes:begin -->\n";
    let start = readme.find(begin).expect("README has a codes:begin marker") + begin.len();
    let end = readme
        .find("<!-- codes:end -->")
        .expect("README has a codes:end marker");
    let output = Command::cargo_bin("mmerr")
        .unwrap()
        .args(["list", "--markdown"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let generated = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        &readme[start..end],
        generated,
        "README's code table is out of date: replace it with `cargo run --release -- list --markdown`"
    );
}
