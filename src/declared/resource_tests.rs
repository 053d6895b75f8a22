//! Tests of `resource.rs`: what a client may read of a served directory, and load-time checks.

use super::*;
use crate::declared::confine::TempDir;
use std::os::unix::fs::symlink;

/// `<tmp>/docs` with served, hidden, excluded, over-size, binary and symlinked files, and
/// `<tmp>/secret.md` outside it.
fn tree() -> (TempDir, ResourceSpec) {
    let t = TempDir::new("resource");
    let docs = t.0.join("docs");
    fs::create_dir_all(docs.join("sub/deep")).unwrap();
    fs::create_dir_all(docs.join(".git")).unwrap();
    for (p, body) in [
        ("a.md", "# A"),
        ("my file.md", "spaced"),
        ("sub/b.md", "# B"),
        ("sub/deep/c.txt", "see"),
        (".hidden.md", "hidden"),
        (".git/config", "[core]"),
        ("notes.bin", "not included"),
        ("big.md", &"x".repeat(101)),
    ] {
        fs::write(docs.join(p), body).unwrap();
    }
    fs::write(docs.join("img.png"), [0x89, b'P', b'N', b'G', 0xff, 0]).unwrap();
    fs::write(t.0.join("secret.md"), "secret").unwrap();
    symlink(t.0.join("secret.md"), docs.join("out.md")).unwrap();
    symlink(docs.join("sub/b.md"), docs.join("in.md")).unwrap();
    symlink(docs.join(".hidden.md"), docs.join("to-hidden.md")).unwrap();
    symlink(&t.0, docs.join("sub/up")).unwrap(); // a directory link leading out
    let spec = ResourceSpec {
        uri: "file:///docs/{path}".into(),
        dir: Some(docs),
        include: Some(vec!["*.md".into(), "*.txt".into(), "*.png".into()]),
        max_bytes: Some(100),
        ..ResourceSpec::default()
    };
    (t, spec)
}

/// `resources/read` of `uri` the way the registry does it: the template's match (percent
/// decoding included), then the directory's read.
fn read(spec: &ResourceSpec, uri: &str) -> Result<ResourceContents, Error> {
    let Ok(Some(Built::Template(t))) = spec.build() else {
        panic!("not a template");
    };
    let vars = t.matches(uri).ok_or(Error::NotFound)?;
    let dir = spec.dir().unwrap().unwrap();
    let mut contents = dir.read(uri, &vars["path"])?;
    assert_eq!(contents.len(), 1);
    Ok(contents.remove(0))
}

#[test]
fn escapes_hidden_excluded_and_special_files_are_not_found() {
    let (_t, spec) = tree();
    for uri in [
        "file:///docs/../../etc/passwd",
        "file:///docs/../secret.md",
        "file:///docs/%2e%2e/secret.md",
        "file:///docs/%2E%2E%2Fsecret.md",
        "file:///docs/sub/%2e%2e/%2e%2e/secret.md",
        "file:///docs/./a.md",
        "file:///docs//etc/passwd",
        "file:///docs/%2Fetc%2Fpasswd",
        "file:///docs/out.md",           // symlink leading outside
        "file:///docs/sub/up/secret.md", // through a directory link leading outside
        "file:///docs/.hidden.md",
        "file:///docs/.git/config",
        "file:///docs/to-hidden.md", // a served name that resolves to a hidden one
        "file:///docs/notes.bin",    // not included
        "file:///docs/sub",          // a directory
        "file:///docs/a.md%00.md",
        "file:///docs/missing.md",
    ] {
        let got = read(&spec, uri);
        assert!(matches!(got, Err(Error::NotFound)), "{uri}: {got:?}");
    }
}

#[test]
fn an_oversize_file_is_refused_saying_so() {
    let (_t, spec) = tree();
    match read(&spec, "file:///docs/big.md") {
        Err(Error::InvalidParams(m)) => assert!(m.contains("limit of 100 bytes"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn served_files_have_their_media_type() {
    let (_t, spec) = tree();
    let text = |uri: &str, mime: &str, body: &str| {
        let want = ResourceContents::text(uri, mime, body);
        assert_eq!(read(&spec, uri).unwrap(), want);
    };
    text("file:///docs/sub/deep/c.txt", "text/plain", "see");
    text("file:///docs/sub%2Fb.md", "text/markdown", "# B");
    text("file:///docs/in.md", "text/markdown", "# B"); // a symlink that stays inside
    text("file:///docs/my%20file.md", "text/markdown", "spaced");
    let png = read(&spec, "file:///docs/img.png").unwrap();
    let data = vec![0x89, b'P', b'N', b'G', 0xff, 0];
    assert_eq!(
        png,
        ResourceContents::blob("file:///docs/img.png", "image/png", data)
    );
}

#[test]
fn listing_shows_what_may_be_read() {
    let (_t, mut spec) = tree();
    let dir = spec.dir().unwrap().unwrap();
    let files: Vec<String> = dir.files().into_iter().map(|(p, _)| p).collect();
    let want = [
        "a.md",
        "big.md",
        "img.png",
        "in.md",
        "my file.md",
        "sub/b.md",
        "sub/deep/c.txt",
    ];
    assert_eq!(files, want);
    for e in dir.entries() {
        assert!(
            read(&spec, &e.uri).is_ok() || e.name == "big.md",
            "{}",
            e.uri
        );
    }
    let e = dir.entries();
    assert_eq!(
        (e[4].uri.as_str(), e[4].size),
        ("file:///docs/my%20file.md", Some(6))
    );
    assert_eq!(e[2].mime_type.as_deref(), Some("image/png"));
    assert_eq!(dir.complete("sub/"), ["sub/b.md", "sub/deep/c.txt"]);
    assert!(dir.complete("zzz").is_empty());
    spec.max_files = Some(2);
    assert_eq!(spec.dir().unwrap().unwrap().files().len(), 2);
}

#[test]
fn file_and_text_resources() {
    let (t, _) = tree();
    let path = t.0.join("docs/a.md");
    let got = read_capped(&path, "x:a", None, 100, false).unwrap();
    assert_eq!(got, ResourceContents::text("x:a", "text/markdown", "# A"));
    let got = read_capped(&path, "x:a", Some("application/octet-stream"), 100, false).unwrap();
    assert!(matches!(got, ResourceContents::Blob { .. }), "{got:?}");
    assert!(read_capped(&path, "x:a", None, 2, false).is_err());
    fs::write(t.0.join("raw"), [0xff, 0xfe]).unwrap();
    let got = read_capped(&t.0.join("raw"), "x:r", None, 100, false).unwrap();
    let want = ResourceContents::blob("x:r", "application/octet-stream", vec![0xff, 0xfe]);
    assert_eq!(got, want);
    let spec = |uri: &str, file: Option<PathBuf>, text: Option<&str>| ResourceSpec {
        uri: uri.into(),
        file,
        text: text.map(String::from),
        ..ResourceSpec::default()
    };
    let Ok(Some(Built::Resource(r))) = spec("file:///a", Some(path), None).build() else {
        panic!("file resource");
    };
    assert_eq!(
        (r.name.as_str(), r.mime_type.as_deref()),
        ("a.md", Some("text/markdown"))
    );
    let Ok(Some(Built::Resource(r))) = spec("memo://m", None, Some("hi")).build() else {
        panic!("text resource");
    };
    assert_eq!(r.mime_type.as_deref(), Some("text/plain"));
    let command = ResourceSpec {
        uri: "cmd://x".into(),
        command: Some(vec!["/bin/true".into()]),
        timeout_secs: Some(1.5),
        ..ResourceSpec::default()
    };
    assert!(matches!(command.build(), Ok(None)));
}

#[test]
fn checks_name_the_mistake() {
    let (t, good) = tree();
    let with = |f: &dyn Fn(&mut ResourceSpec)| {
        let mut s = good.clone();
        f(&mut s);
        s.check().unwrap_err()
    };
    assert!(good.check().is_ok());
    type Edit<'a> = &'a dyn Fn(&mut ResourceSpec);
    let cases: [(&str, Edit); 11] = [
        ("absolute", &|s| s.dir = Some("docs".into())),
        ("exactly one", &|s| s.text = Some("x".into())),
        ("must end with {path}", &|s| {
            s.uri = "file:///docs/{p}".into()
        }),
        ("must end with {path}", &|s| {
            s.uri = "file:///{x}/{path}".into()
        }),
        ("must end with {path}", &|s| s.uri = "file:///docs/".into()),
        ("scheme", &|s| s.uri = "/docs/{path}".into()),
        ("include pattern", &|s| s.include = Some(vec!["[".into()])),
        ("not a directory", &|s| s.dir = Some(t.0.join("none"))),
        ("limit of 0", &|s| s.max_bytes = Some(0)),
        ("timeout_secs applies only", &|s| s.timeout_secs = Some(1.0)),
        ("exactly one", &|s| s.dir = None),
    ];
    for (want, f) in cases {
        let got = with(f);
        assert!(got.contains(want), "{want:?} not in {got:?}");
    }
    let text = |uri: &str, include: bool| ResourceSpec {
        uri: uri.into(),
        text: Some("t".into()),
        include: include.then(Vec::new),
        ..ResourceSpec::default()
    };
    assert!(
        text("x://{v}", false)
            .check()
            .unwrap_err()
            .contains("{variable}")
    );
    assert!(
        text("x://v", true)
            .check()
            .unwrap_err()
            .contains("include applies only")
    );
    let file = ResourceSpec {
        uri: "x://f".into(),
        file: Some(t.0.join("docs")),
        ..ResourceSpec::default()
    };
    assert!(file.check().unwrap_err().contains("not a regular file"));
    let cmd = ResourceSpec {
        uri: "x://c".into(),
        command: Some(vec!["ls".into()]),
        ..ResourceSpec::default()
    };
    assert!(cmd.check().unwrap_err().contains("absolute"));
}

#[test]
fn unknown_keys_are_refused_at_parse() {
    #[derive(Deserialize)]
    struct File {
        #[allow(dead_code)]
        resource: Vec<ResourceSpec>,
    }
    let ok = "[[resource]]\nuri = \"memo://a\"\ntext = \"hi\"\nmime_type = \"text/x\"\n";
    assert!(toml::from_str::<File>(ok).is_ok());
    let typo = "[[resource]]\nuri = \"memo://a\"\ntext = \"hi\"\nmimetype = \"text/x\"\n";
    let e = toml::from_str::<File>(typo).err().unwrap().to_string();
    assert!(e.contains("mimetype"), "{e}");
}
