//! Tests of `args.rs`: each type's accepted and refused values, schemas and load errors.
use super::*;

fn args(toml_text: &str) -> Result<Args, String> {
    let specs: BTreeMap<String, ArgSpec> = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    Args::compile(&specs)
}

fn call(a: &Args, v: Value) -> Result<BTreeMap<String, ArgValue>, String> {
    a.check(v.as_object().unwrap())
}

#[test]
fn strings_refuse_control_characters_leading_dash_and_pattern_misses() {
    let a = args(
        "[unit]\ntype = \"string\"\npattern = \"[a-z.]+\"\n[free]\ntype = \"string\"\nrequired = false\nallow_leading_dash = true\nmax_len = 5\n",
    )
    .unwrap();
    assert!(call(&a, json!({"unit": "ssh.service"})).is_ok());
    for bad in [
        "; id",
        "$(id)",
        "`id`",
        "a\nb",
        "a\0b",
        "-rf",
        "--help",
        "ssh.service x",
    ] {
        let e = call(&a, json!({"unit": bad})).unwrap_err();
        assert!(e.contains("\"unit\""), "{bad:?}: {e}");
    }
    assert!(
        call(&a, json!({"unit": "x", "free": "-v"})).is_ok(),
        "dash allowed"
    );
    assert!(
        call(&a, json!({"unit": "x", "free": "toolong"}))
            .unwrap_err()
            .contains("longer")
    );
    assert!(
        call(&a, json!({"unit": "x", "free": "a\tb"})).is_err(),
        "tab is a control char"
    );
    assert!(
        call(&a, json!({}))
            .unwrap_err()
            .contains("missing required argument \"unit\"")
    );
    assert!(
        call(&a, json!({"unit": "x", "other": 1}))
            .unwrap_err()
            .contains("unknown argument")
    );
    assert!(
        call(&a, json!({"unit": 5}))
            .unwrap_err()
            .contains("expected a string")
    );
}

#[test]
fn integers_and_numbers_keep_their_ranges_and_defaults() {
    let a = args(
        "[lines]\ntype = \"integer\"\nmin = 1\nmax = 1000\ndefault = 50\n[ratio]\ntype = \"number\"\nmin = 0\nmax = 1.5\nrequired = false\n",
    )
    .unwrap();
    let v = call(&a, json!({})).unwrap();
    assert_eq!(v["lines"], ArgValue::Text("50".into()));
    assert!(!v.contains_key("ratio"));
    assert!(
        call(&a, json!({"lines": 0}))
            .unwrap_err()
            .contains("between 1 and 1000")
    );
    assert!(call(&a, json!({"lines": 1001})).is_err());
    assert!(
        call(&a, json!({"lines": 2.5}))
            .unwrap_err()
            .contains("integer")
    );
    assert!(call(&a, json!({"lines": "5"})).is_err());
    assert_eq!(
        call(&a, json!({"ratio": 0.25})).unwrap()["ratio"],
        ArgValue::Text("0.25".into())
    );
    assert!(call(&a, json!({"ratio": 2})).is_err());
    let schema = a.schema();
    assert_eq!(schema["properties"]["lines"]["minimum"], 1);
    assert_eq!(schema["properties"]["lines"]["default"], 50);
    assert!(
        schema.get("required").is_none(),
        "a default makes it optional"
    );
    assert!(
        args("[n]\ntype = \"integer\"\nmin = 5\nmax = 1\n")
            .unwrap_err()
            .contains("greater")
    );
    assert!(
        args("[n]\ntype = \"integer\"\ndefault = 9\nmax = 1\n")
            .unwrap_err()
            .contains("default")
    );
}

#[test]
fn enums_booleans_and_arrays() {
    let a = args(
        "[mode]\ntype = \"string\"\nenum = [\"fast\", \"slow\"]\n[verbose]\ntype = \"boolean\"\nflag = \"--verbose\"\ndefault = false\n[files]\ntype = \"array\"\nmax_items = 2\npattern = \"[a-z]+\"\nrequired = false\n",
    )
    .unwrap();
    assert!(
        call(&a, json!({"mode": "medium"}))
            .unwrap_err()
            .contains("one of fast, slow")
    );
    let v = call(
        &a,
        json!({"mode": "fast", "verbose": true, "files": ["a", "b"]}),
    )
    .unwrap();
    assert_eq!(
        v["verbose"],
        ArgValue::Bool {
            value: true,
            flag: Some("--verbose".into())
        }
    );
    assert_eq!(v["files"], ArgValue::List(vec!["a".into(), "b".into()]));
    assert!(call(&a, json!({"mode": "fast", "files": ["a", "b", "c"]})).is_err());
    assert!(
        call(&a, json!({"mode": "fast", "files": ["-x"]}))
            .unwrap_err()
            .contains("item 0")
    );
    assert!(call(&a, json!({"mode": "fast", "verbose": "yes"})).is_err());
    assert!(
        args("[b]\ntype = \"boolean\"\nmin = 1\n")
            .unwrap_err()
            .contains("does not apply")
    );
    assert!(args("[p]\ntype = \"path\"\n").unwrap_err().contains("root"));
    assert!(
        args("[s]\ntype = \"string\"\npattern = \"(\"\n")
            .unwrap_err()
            .contains("pattern")
    );
    assert!(args("[s]\ntype = \"strin\"\n").is_err());
    assert!(args("[s]\ntype = \"string\"\nbogus = 1\n").is_err());
}

#[test]
fn paths_stay_inside_their_root() {
    let dir = std::env::temp_dir().join(format!("fastmcp-args-{}", std::process::id()));
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/f.txt"), "x").unwrap();
    std::fs::write(dir.join("secret"), "x").unwrap();
    let _ = std::os::unix::fs::symlink(dir.join("secret"), root.join("link"));
    let spec = format!(
        "[p]\ntype = \"path\"\nroot = \"{}\"\nkind = \"file\"\n",
        root.display()
    );
    let a = args(&spec).unwrap();
    let ok = call(&a, json!({"p": "sub/f.txt"})).unwrap();
    let real = root.canonicalize().unwrap().join("sub/f.txt");
    assert_eq!(ok["p"], ArgValue::Text(real.to_string_lossy().into_owned()));
    for bad in [
        "../secret",
        "link",
        "sub/../../secret",
        "/etc/passwd",
        "sub",
        "nope",
    ] {
        assert!(
            call(&a, json!({"p": bad})).is_err(),
            "{bad} must be refused"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn negative_numbers_need_a_negative_min() {
    let a = args("[n]\ntype = \"integer\"\n[x]\ntype = \"number\"\nrequired = false\n").unwrap();
    assert!(
        call(&a, json!({"n": -1}))
            .unwrap_err()
            .contains("at least 0"),
        "it would read as -1, an option"
    );
    assert!(call(&a, json!({"n": 0, "x": -0.5})).is_err());
    assert_eq!(
        call(&a, json!({"n": 0, "x": -0.0})).unwrap()["x"],
        ArgValue::Text("0".into())
    );
    assert_eq!(a.schema()["properties"]["n"]["minimum"], 0);
    let a = args("[n]\ntype = \"integer\"\nmin = -5\n").unwrap();
    assert_eq!(
        call(&a, json!({"n": -5})).unwrap()["n"],
        ArgValue::Text("-5".into())
    );
    assert!(
        args("[x]\ntype = \"number\"\nmax = nan\n")
            .unwrap_err()
            .contains("finite")
    );
}
