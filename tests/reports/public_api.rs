//! The crate's public surface, listed from its source and checked against
//! `tests/public_api.txt`, so a change to what users can name is a visible diff in review.
//!
//! rustdoc's JSON output would be the exact tool, but it needs a nightly toolchain; this reads
//! the source with `syn` instead, offline, on stable. It walks the modules from `src/lib.rs`,
//! follows `pub use` re-exports, and lists every item reachable from outside under its public
//! path: modules, types with their derives, `#[non_exhaustive]` and public fields, enum
//! variants, functions, constants, and the public methods and trait impls of public types.
//! Items behind `#[cfg(test)]`/`doctest`/`loom` or `not(…)` are left out; items behind a
//! feature say which. A macro invoked with an item as its body stands for that item (the
//! fields a macro adds are not seen).
//!
//! After an intended change, `TICKPROF_BLESS=1 cargo test --test reports public_api` rewrites
//! the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::{Attribute, Fields, ImplItem, Item, UseTree, Visibility};

/// One module of the crate: its items.
struct Module {
    items: Vec<Item>,
}

struct Crate {
    /// By path from the crate root (`["report", "live"]`).
    modules: BTreeMap<Vec<String>, Module>,
}

fn parse_file(path: &Path) -> syn::File {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `cfg` attributes of an item, as written; `None` if it is compiled out of every build a
/// user makes (tests, doctests, loom, or an alternative to a feature).
fn cfg_of(attrs: &[Attribute]) -> Option<Vec<String>> {
    let mut cfgs = Vec::new();
    for attr in attrs {
        if attr.path().is_ident("cfg") {
            let text = attr.meta.to_token_stream().to_string();
            if ["test", "doctest", "loom", "not ("]
                .iter()
                .any(|w| text.contains(&format!("({w}")) || text.contains(&format!(" {w}")))
            {
                return None;
            }
            cfgs.push(tidy(&text));
        }
    }
    Some(cfgs)
}

fn is_pub(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

/// Token text with the spaces `quote` puts everywhere taken out where Rust puts none.
fn tidy(text: &str) -> String {
    let mut out = text.to_owned();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" ,", ","),
        (" < ", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        ("& ", "&"),
        (" ;", ";"),
        ("# [", "#["),
        (" ]", "]"),
        ("[ ", "["),
        (" ?", "?"),
        ("' ", "'"),
        ("- >", "->"),
        ("  ", " "),
    ] {
        // Each replacement shortens the text, so this ends.
        while out.contains(from) {
            out = out.replace(from, to);
        }
    }
    out.replace("->", " -> ")
        .replace(">=", " >= ")
        .replace("  ", " ")
}

fn load(root: &Path) -> Crate {
    let mut modules = BTreeMap::new();
    let lib = root.join("src/lib.rs");
    load_module(
        &mut modules,
        Vec::new(),
        &lib,
        root.join("src"),
        root.join("src"),
    );
    Crate { modules }
}

fn load_module(
    modules: &mut BTreeMap<Vec<String>, Module>,
    path: Vec<String>,
    file: &Path,
    dir: PathBuf,
    file_dir: PathBuf,
) {
    let items = parse_file(file).items;
    insert_module(modules, path, items, dir, file_dir);
}

fn insert_module(
    modules: &mut BTreeMap<Vec<String>, Module>,
    path: Vec<String>,
    items: Vec<Item>,
    dir: PathBuf,
    file_dir: PathBuf,
) {
    // A macro invoked with an item as its body (`with_latency_limits! { pub struct … }`)
    // stands for that item here; fields the macro adds are not seen.
    let items: Vec<Item> = items
        .into_iter()
        .map(|item| match &item {
            Item::Macro(m) => syn::parse2::<Item>(m.mac.tokens.clone()).unwrap_or(item),
            _ => item,
        })
        .collect();
    for item in &items {
        let Item::Mod(m) = item else { continue };
        if cfg_of(&m.attrs).is_none() {
            continue;
        }
        let name = m.ident.to_string();
        let mut child = path.clone();
        child.push(name.clone());
        if let Some((_, inline)) = &m.content {
            insert_module(
                modules,
                child,
                inline.to_vec(),
                dir.join(&name),
                file_dir.clone(),
            );
            continue;
        }
        let explicit = m.attrs.iter().find_map(|a| {
            if !a.path().is_ident("path") {
                return None;
            }
            match &a.meta {
                syn::Meta::NameValue(nv) => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            }
        });
        let (file, child_dir) = match explicit {
            Some(p) => {
                let file = file_dir.join(p);
                let child_dir = if file.file_name().is_some_and(|f| f == "mod.rs") {
                    file.parent().unwrap().to_path_buf()
                } else {
                    file.with_extension("")
                };
                (file, child_dir)
            }
            None => {
                let flat = dir.join(format!("{name}.rs"));
                if flat.exists() {
                    (flat, dir.join(&name))
                } else {
                    (dir.join(&name).join("mod.rs"), dir.join(&name))
                }
            }
        };
        let file_dir = file.parent().unwrap().to_path_buf();
        load_module(modules, child, &file, child_dir, file_dir);
    }
    modules.insert(path, Module { items });
}

/// A `use` leaf: the path it names (absolute from the crate root, or external) and the name it
/// is known by.
fn use_leaves(tree: &UseTree, prefix: Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    match tree {
        UseTree::Path(p) => {
            let mut prefix = prefix;
            prefix.push(p.ident.to_string());
            use_leaves(&p.tree, prefix, out);
        }
        UseTree::Name(n) => {
            let mut path = prefix;
            let name = n.ident.to_string();
            path.push(name.clone());
            out.push((path, name));
        }
        UseTree::Rename(r) => {
            let mut path = prefix;
            path.push(r.ident.to_string());
            out.push((path, r.rename.to_string()));
        }
        UseTree::Glob(_) => {
            let mut path = prefix;
            path.push("*".to_owned());
            out.push((path, "*".to_owned()));
        }
        UseTree::Group(g) => {
            for t in &g.items {
                use_leaves(t, prefix.clone(), out);
            }
        }
    }
}

/// `path` as written in module `at`, made absolute; `None` for an external crate.
fn absolute(krate: &Crate, at: &[String], path: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String> = match path.first().map(String::as_str) {
        Some("crate") => Vec::new(),
        Some("self") => at.to_vec(),
        Some("super") => at[..at.len().saturating_sub(1)].to_vec(),
        _ => {
            // Edition 2018+: a sibling module of `at`, or an external crate.
            let mut sibling = at.to_vec();
            sibling.push(path[0].clone());
            if krate.modules.contains_key(&sibling) || defines(krate, at, &path[0]) {
                let mut abs = at.to_vec();
                abs.extend(path.iter().cloned());
                return Some(abs);
            }
            // A name `at` imports (`use collector::metrics_collector;`), then the rest.
            let mut abs = imported(krate, at, &path[0])?;
            abs.extend(path[1..].iter().cloned());
            return Some(abs);
        }
    };
    let mut rest = &path[1..];
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(canonical(krate, base))
}

/// `path` with each module segment that is only imported (`use tools::metric;` at the root)
/// replaced by where the module lives (`tools::metric`).
fn canonical(krate: &Crate, path: Vec<String>) -> Vec<String> {
    for i in 0..path.len().saturating_sub(1) {
        let prefix = &path[..=i];
        if krate.modules.contains_key(prefix) {
            continue;
        }
        if let Some(mut real) = imported(krate, &path[..i], &path[i]) {
            real.extend(path[i + 1..].iter().cloned());
            return canonical(krate, real);
        }
        break;
    }
    path
}

/// The absolute path of `name` as module `at` imports it with a `use`, if it does.
fn imported(krate: &Crate, at: &[String], name: &str) -> Option<Vec<String>> {
    let m = krate.modules.get(at)?;
    for item in &m.items {
        let Item::Use(u) = item else { continue };
        if cfg_of(&u.attrs).is_none() {
            continue;
        }
        let mut leaves = Vec::new();
        use_leaves(&u.tree, Vec::new(), &mut leaves);
        for (target, alias) in leaves {
            if alias == name && target.first().is_some_and(|t| t != name) {
                return absolute(krate, at, &target);
            }
        }
    }
    None
}

fn item_name(item: &Item) -> Option<String> {
    Some(match item {
        Item::Struct(i) => i.ident.to_string(),
        Item::Enum(i) => i.ident.to_string(),
        Item::Fn(i) => i.sig.ident.to_string(),
        Item::Const(i) => i.ident.to_string(),
        Item::Static(i) => i.ident.to_string(),
        Item::Type(i) => i.ident.to_string(),
        Item::Trait(i) => i.ident.to_string(),
        Item::Mod(i) => i.ident.to_string(),
        Item::Union(i) => i.ident.to_string(),
        _ => return None,
    })
}

fn defines(krate: &Crate, module: &[String], name: &str) -> bool {
    krate.modules.get(module).is_some_and(|m| {
        m.items
            .iter()
            .any(|i| item_name(i).as_deref() == Some(name))
    })
}

/// The item an absolute path names: the module that defines it (following `use`s, public or
/// not) and the item; `None` for a module or an external item.
fn resolve<'a>(krate: &'a Crate, path: &[String], depth: usize) -> Option<(Vec<String>, &'a Item)> {
    assert!(depth < 16, "use cycle at {path:?}");
    let (name, module) = path.split_last()?;
    let m = krate.modules.get(module)?;
    for item in &m.items {
        if item_name(item).as_deref() == Some(name.as_str()) && !matches!(item, Item::Mod(_)) {
            if cfg_of(item_attrs(item)).is_none() {
                continue;
            }
            return Some((module.to_vec(), item));
        }
    }
    for item in &m.items {
        let Item::Use(u) = item else { continue };
        if cfg_of(&u.attrs).is_none() {
            continue;
        }
        let mut leaves = Vec::new();
        use_leaves(&u.tree, Vec::new(), &mut leaves);
        for (target, alias) in leaves {
            if alias == *name {
                let abs = absolute(krate, module, &target)?;
                return resolve(krate, &abs, depth + 1);
            }
        }
    }
    None
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Struct(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::Const(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        _ => &[],
    }
}

/// `#[non_exhaustive]`, the derives and the cfgs of a type, as one suffix.
fn type_notes(attrs: &[Attribute], cfg: &[String]) -> String {
    let mut notes = Vec::new();
    for attr in attrs {
        if attr.path().is_ident("non_exhaustive") {
            notes.push("#[non_exhaustive]".to_owned());
        }
        if attr.path().is_ident("derive") {
            notes.push(tidy(&attr.meta.to_token_stream().to_string()));
        }
    }
    notes.extend(cfg.iter().cloned());
    if notes.is_empty() {
        String::new()
    } else {
        format!("  {}", notes.join(" "))
    }
}

fn signature(sig: &syn::Signature) -> String {
    tidy(&sig.to_token_stream().to_string())
}

/// Lists the public surface: one line per item, field, variant, method and trait impl.
fn surface(krate: &Crate) -> BTreeSet<String> {
    let mut lines = BTreeSet::new();
    // Public types by their defining module and name, for their impls.
    let mut types: BTreeMap<(Vec<String>, String), String> = BTreeMap::new();
    let mut queue = vec![(
        Vec::<String>::new(),
        vec!["tickprof".to_owned()],
        Vec::<String>::new(),
    )];
    let mut seen_modules = BTreeSet::new();
    while let Some((module, public, cfg)) = queue.pop() {
        if !seen_modules.insert(module.clone()) {
            continue;
        }
        let Some(m) = krate.modules.get(&module) else {
            continue;
        };
        for item in &m.items {
            let Some(item_cfg) = cfg_of(item_attrs(item)) else {
                continue;
            };
            let mut cfg = cfg.clone();
            cfg.extend(item_cfg);
            match item {
                Item::Mod(i) if is_pub(&i.vis) => {
                    let mut child = module.clone();
                    child.push(i.ident.to_string());
                    let mut path = public.clone();
                    path.push(i.ident.to_string());
                    lines.insert(format!("mod {}{}", path.join("::"), type_notes(&[], &cfg)));
                    queue.push((child, path, cfg));
                }
                Item::Use(u) if is_pub(&u.vis) => {
                    let mut leaves = Vec::new();
                    use_leaves(&u.tree, Vec::new(), &mut leaves);
                    for (target, alias) in leaves {
                        let mut path = public.clone();
                        path.push(alias.clone());
                        let Some(abs) = absolute(krate, &module, &target) else {
                            lines.insert(format!(
                                "pub use {} as {}",
                                target.join("::"),
                                path.join("::")
                            ));
                            continue;
                        };
                        if krate.modules.contains_key(&abs) {
                            lines.insert(format!(
                                "mod {}{}",
                                path.join("::"),
                                type_notes(&[], &cfg)
                            ));
                            queue.push((abs, path, cfg.clone()));
                            continue;
                        }
                        match resolve(krate, &abs, 0) {
                            Some((home, target)) => {
                                list_item(target, &home, &path, &cfg, &mut lines, &mut types)
                            }
                            None => panic!("cannot resolve `pub use {}`", target.join("::")),
                        }
                    }
                }
                _ if is_pub_item(item) => {
                    let mut path = public.clone();
                    path.push(item_name(item).unwrap_or_default());
                    list_item(item, &module, &path, &cfg, &mut lines, &mut types);
                }
                _ => {}
            }
        }
    }
    // The impls of public types, wherever they are.
    for (module, m) in &krate.modules {
        list_impls(module, &m.items, &types, &mut lines);
    }
    lines
}

fn is_pub_item(item: &Item) -> bool {
    match item {
        Item::Struct(i) => is_pub(&i.vis),
        Item::Enum(i) => is_pub(&i.vis),
        Item::Fn(i) => is_pub(&i.vis),
        Item::Const(i) => is_pub(&i.vis),
        Item::Static(i) => is_pub(&i.vis),
        Item::Type(i) => is_pub(&i.vis),
        Item::Trait(i) => is_pub(&i.vis),
        Item::Union(i) => is_pub(&i.vis),
        _ => false,
    }
}

fn list_item(
    item: &Item,
    home: &[String],
    path: &[String],
    cfg: &[String],
    lines: &mut BTreeSet<String>,
    types: &mut BTreeMap<(Vec<String>, String), String>,
) {
    let p = path.join("::");
    let cfg = {
        let mut all = cfg.to_vec();
        all.extend(cfg_of(item_attrs(item)).unwrap_or_default());
        all.sort();
        all.dedup();
        all
    };
    match item {
        Item::Struct(s) => {
            lines.insert(format!("struct {p}{}", type_notes(&s.attrs, &cfg)));
            if let Fields::Named(named) = &s.fields {
                for f in &named.named {
                    if is_pub(&f.vis) {
                        let ty = tidy(&f.ty.to_token_stream().to_string());
                        lines.insert(format!("field {p}.{}: {ty}", f.ident.as_ref().unwrap()));
                    }
                }
            }
            if let Fields::Unnamed(unnamed) = &s.fields {
                for (i, f) in unnamed.unnamed.iter().enumerate() {
                    if is_pub(&f.vis) {
                        let ty = tidy(&f.ty.to_token_stream().to_string());
                        lines.insert(format!("field {p}.{i}: {ty}"));
                    }
                }
            }
            types.insert((home.to_vec(), s.ident.to_string()), p);
        }
        Item::Enum(e) => {
            lines.insert(format!("enum {p}{}", type_notes(&e.attrs, &cfg)));
            for v in &e.variants {
                let Some(vcfg) = cfg_of(&v.attrs) else {
                    continue;
                };
                let fields = tidy(&v.fields.to_token_stream().to_string());
                let notes = if vcfg.is_empty() {
                    String::new()
                } else {
                    format!("  {}", vcfg.join(" "))
                };
                lines.insert(format!("variant {p}::{}{fields}{notes}", v.ident));
            }
            types.insert((home.to_vec(), e.ident.to_string()), p);
        }
        Item::Fn(f) => {
            lines.insert(format!(
                "fn {p}: {}{}",
                signature(&f.sig),
                type_notes(&[], &cfg)
            ));
        }
        Item::Const(c) => {
            let ty = tidy(&c.ty.to_token_stream().to_string());
            lines.insert(format!("const {p}: {ty}{}", type_notes(&[], &cfg)));
        }
        Item::Static(s) => {
            let ty = tidy(&s.ty.to_token_stream().to_string());
            lines.insert(format!("static {p}: {ty}{}", type_notes(&[], &cfg)));
        }
        Item::Type(t) => {
            let ty = tidy(&t.ty.to_token_stream().to_string());
            let generics = tidy(&t.generics.to_token_stream().to_string());
            lines.insert(format!(
                "type {p}{generics} = {ty}{}",
                type_notes(&[], &cfg)
            ));
        }
        Item::Trait(t) => {
            lines.insert(format!("trait {p}{}", type_notes(&[], &cfg)));
            types.insert((home.to_vec(), t.ident.to_string()), p);
        }
        _ => {}
    }
}

/// The last segment of an impl's self type (`Report` for `impl Report`, `crate::report::Report`).
fn self_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn list_impls(
    module: &[String],
    items: &[Item],
    types: &BTreeMap<(Vec<String>, String), String>,
    lines: &mut BTreeSet<String>,
) {
    for item in items {
        let Item::Impl(imp) = item else { continue };
        if cfg_of(&imp.attrs).is_none() {
            continue;
        }
        let Some(name) = self_name(&imp.self_ty) else {
            continue;
        };
        // The type of that name defined in this module or, failing that, the only public
        // type of that name.
        let own = types.get(&(module.to_vec(), name.clone()));
        let candidates: Vec<&String> = types
            .iter()
            .filter(|((_, n), _)| *n == name)
            .map(|(_, p)| p)
            .collect();
        let Some(public) = own.or(match candidates.as_slice() {
            [only] => Some(*only),
            _ => None,
        }) else {
            continue;
        };
        match &imp.trait_ {
            Some((_, trait_path, _)) => {
                let generics = tidy(&imp.generics.to_token_stream().to_string());
                lines.insert(format!(
                    "impl{generics} {} for {public}",
                    tidy(&trait_path.to_token_stream().to_string())
                ));
            }
            None => {
                for ii in &imp.items {
                    match ii {
                        ImplItem::Fn(f) if is_pub(&f.vis) && cfg_of(&f.attrs).is_some() => {
                            lines.insert(format!(
                                "fn {public}::{}: {}",
                                f.sig.ident,
                                signature(&f.sig)
                            ));
                        }
                        ImplItem::Const(c) if is_pub(&c.vis) => {
                            let ty = tidy(&c.ty.to_token_stream().to_string());
                            lines.insert(format!("const {public}::{}: {ty}", c.ident));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

#[test]
fn the_public_api_is_the_listed_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let krate = load(root);
    let listed: String = surface(&krate)
        .into_iter()
        .map(|line| line + "\n")
        .collect();
    let header = std::fs::read_to_string(root.join("tests/public_api.header.txt")).unwrap();
    let actual = format!("{header}{listed}");
    let file = root.join("tests/public_api.txt");
    if std::env::var_os("TICKPROF_BLESS").is_some() {
        std::fs::write(&file, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&file).unwrap_or_default();
    if expected != actual {
        let old: BTreeSet<&str> = expected.lines().collect();
        let new: BTreeSet<&str> = actual.lines().collect();
        let gone: Vec<&&str> = old.difference(&new).collect();
        let added: Vec<&&str> = new.difference(&old).collect();
        panic!(
            "the public API changed; if that is intended, run \
             `TICKPROF_BLESS=1 cargo test --test reports public_api` and commit tests/public_api.txt\n\
             removed:\n{}\nadded:\n{}",
            gone.iter()
                .map(|l| format!("  - {l}\n"))
                .collect::<String>(),
            added
                .iter()
                .map(|l| format!("  + {l}\n"))
                .collect::<String>(),
        );
    }
}
