//! `wasm-prune FILE`: leaves Leptos's asynchronous hydration out of a WASM file that
//! `wasm-bindgen` wrote, before `wasm-opt` shrinks it.
//!
//! Every view Leptos type-erases (every component, under `--cfg erase_components`) carries a
//! pointer to a function that hydrates it asynchronously (tachys's `IntoAny::into_any`, in
//! `view/any_view.rs`). Only `leptos::mount::hydrate_lazy` (lazy routes) starts that kind of
//! hydration: every other call of `hydrate_async` in leptos 0.8.23, leptos_router 0.8.17 and
//! tachys 0.2.19 is inside another `hydrate_async`. Whisper hydrates with `hydrate_body`, so
//! none of those functions ever runs, but the pointers keep them all in the file, where no
//! optimiser can see that they are never called. This replaces each one's body with
//! `unreachable` and drops what only they used: 5.0 % of the release WASM's bytes, 3.9 % of its
//! gzip size (BENCHMARKS.md, thirtieth session). **Check that reasoning again when Leptos or
//! tachys is updated.**
//!
//! It refuses a file
//! - that links `hydrate_lazy`, where the pruned code would run;
//! - in which other code calls one of the functions directly or takes its address: code that
//!   runs, merged with one of them by LLVM under that one's name. (A merge reached only through
//!   the table would not show; but each of these functions names its own view type's future
//!   vtable or `TypeId`, which no code outside asynchronous hydration has.)
//! - in which it finds nothing to prune: no names (the symbols must use Rust's `v0` mangling,
//!   which names generic arguments), or Leptos renamed the functions (update [`ERASED_ASYNC`]).
//!
//! `scripts/build-release.sh` runs it through `scripts/wasm-opt/wasm-opt`, which cargo-leptos
//! finds first on its `PATH` and calls on the `wasm-bindgen` output.

use anyhow::{Context, Result, bail};
use std::collections::HashSet;
use walrus::ir::{Visitor, dfs_in_order};
use walrus::{FunctionId, FunctionKind, Module};

/// How the demangled name (crate hashes left out) of each erased view's asynchronous
/// hydration begins, and that of the future it returns (`…::{closure#0}`): one of each per
/// view type.
const ERASED_ASYNC: &str = "<_ as tachys::view::any_view::IntoAny>::into_any::hydrate_async::<";

/// Part of the name of the one function that starts asynchronous hydration.
const LAZY_HYDRATION: &str = "leptos::mount::hydrate_lazy";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(path), None) = (args.next(), args.next()) else {
        bail!("usage: wasm-prune FILE (the .wasm file, pruned in place)");
    };
    let mut module = Module::from_file(&path).with_context(|| format!("reading {path}"))?;
    let pruned = prune(&mut module).with_context(|| format!("pruning {path}"))?;
    module
        .emit_wasm_file(&path)
        .with_context(|| format!("writing {path}"))?;
    println!("wasm-prune: {pruned} asynchronous hydration functions left out of {path}");
    Ok(())
}

/// Empties every asynchronous hydration function of `module` and drops what only they used;
/// returns how many it emptied.
fn prune(module: &mut Module) -> Result<usize> {
    let name = |id: FunctionId| {
        module
            .funcs
            .get(id)
            .name
            .as_deref()
            .map(without_crate_hashes)
            .unwrap_or_default()
    };
    if let Some(lazy) = module
        .funcs
        .iter()
        .find(|f| name(f.id()).contains(LAZY_HYDRATION))
    {
        bail!(
            "this WASM hydrates lazily ({}): its asynchronous hydration runs",
            name(lazy.id())
        );
    }
    let targets: HashSet<FunctionId> = module
        .funcs
        .iter()
        .filter(|f| matches!(f.kind, FunctionKind::Local(_)))
        .filter(|f| name(f.id()).starts_with(ERASED_ASYNC))
        .map(|f| f.id())
        .collect();
    if targets.is_empty() {
        bail!("found no function named `{ERASED_ASYNC}…`: no v0 names, or Leptos renamed it");
    }
    // These functions are only ever reached through the table (the views' function pointers
    // and the futures' vtables). One that other code calls or takes the address of is code
    // that runs.
    for (id, body) in module.funcs.iter_local() {
        if targets.contains(&id) {
            continue;
        }
        let mut uses = Uses {
            targets: &targets,
            found: None,
        };
        dfs_in_order(&mut uses, body, body.entry_block());
        if let Some(target) = uses.found {
            bail!(
                "`{}` uses `{}`, which would be left out",
                name(id),
                name(target)
            );
        }
    }
    for &id in &targets {
        if let FunctionKind::Local(function) = &mut module.funcs.get_mut(id).kind {
            let body = function.entry_block();
            function.block_mut(body).instrs.clear();
            function.builder_mut().func_body().unreachable();
        }
    }
    walrus::passes::gc::run(module);
    Ok(targets.len())
}

/// Finds a use (a call, or a reference) of one of `targets`.
struct Uses<'a> {
    targets: &'a HashSet<FunctionId>,
    found: Option<FunctionId>,
}

impl Visitor<'_> for Uses<'_> {
    fn visit_function_id(&mut self, function: &FunctionId) {
        if self.targets.contains(function) {
            self.found.get_or_insert(*function);
        }
    }
}

/// `a[0f1e]::b` → `a::b`.
fn without_crate_hashes(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        match rest.find(']') {
            Some(close) if close > 1 && rest[1..close].bytes().all(|b| b.is_ascii_hexdigit()) => {
                rest = &rest[close + 1..];
            }
            _ => {
                out.push('[');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use walrus::ir::Instr;
    use walrus::{FunctionBuilder, ModuleConfig, ValType};

    const ERASED: &str =
        "<_ as tachys[ab12]::view::any_view::IntoAny>::into_any::hydrate_async::<app[cd34]::View>";
    const ERASED_FUTURE: &str = "<_ as tachys[ab12]::view::any_view::IntoAny>::into_any::hydrate_async::<app[cd34]::View>::{closure#0}";
    /// Drop glue names the future in type position: it may be merged code that runs.
    const FUTURE_DROP: &str = "core[9c69]::ptr::drop_glue::<<_ as tachys[ab12]::view::any_view::IntoAny>::into_any::hydrate_async<app[cd34]::View>::{closure#0}>";
    const HYDRATE: &str = "<_ as tachys[ab12]::view::any_view::IntoAny>::into_any::hydrate_from_server::<app[cd34]::View>";

    /// A module: the exported `main` calls `hydrate` (and `extra`, if given); the table holds
    /// `erased` and `future`; `erased` alone calls `helper`. Returns the ids by name.
    fn module(extra: Option<(&str, &str)>) -> (Module, Vec<(&'static str, FunctionId)>) {
        let mut module = Module::with_config(ModuleConfig::new());
        let function = |module: &mut Module, name: &str, calls: &[FunctionId]| {
            let mut builder = FunctionBuilder::new(&mut module.types, &[], &[ValType::I32]);
            let mut body = builder.func_body();
            for &callee in calls {
                body.call(callee).drop();
            }
            body.i32_const(7);
            let id = builder.finish(vec![], &mut module.funcs);
            module.funcs.get_mut(id).name = Some(name.to_owned());
            id
        };
        let helper = function(&mut module, "tachys[ab12]::html::element::helper", &[]);
        let erased = function(&mut module, ERASED, &[helper]);
        let future = function(&mut module, ERASED_FUTURE, &[]);
        let drop = function(&mut module, FUTURE_DROP, &[]);
        let hydrate = function(&mut module, HYDRATE, &[drop]);
        let mut calls = vec![hydrate];
        if let Some((name, callee)) = extra {
            let callee = match callee {
                "erased" => erased,
                _ => function(&mut module, "leaf", &[]),
            };
            calls.push(function(&mut module, name, &[callee]));
        }
        let main = function(&mut module, "main", &calls);
        module.exports.add("main", main);
        let table = module
            .tables
            .add_local(false, 2, None, walrus::RefType::FUNCREF);
        module.exports.add("table", table);
        let segment = module.elements.add(
            walrus::ElementKind::Active {
                table,
                offset: walrus::ConstExpr::Value(walrus::ir::Value::I32(0)),
            },
            walrus::ElementItems::Functions(vec![erased, future]),
        );
        // As walrus records it when it reads a file.
        module.tables.get_mut(table).elem_segments.insert(segment);
        let ids = vec![
            ("helper", helper),
            ("erased", erased),
            ("future", future),
            ("drop", drop),
            ("hydrate", hydrate),
        ];
        (module, ids)
    }

    fn id(ids: &[(&str, FunctionId)], name: &str) -> FunctionId {
        ids.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, id)| *id)
            .unwrap_or_else(|| panic!("{name}"))
    }

    /// The function's instructions, or `None` once it is gone.
    fn body(module: &Module, id: FunctionId) -> Option<Vec<Instr>> {
        let function = module.funcs.iter().find(|f| f.id() == id)?;
        match &function.kind {
            FunctionKind::Local(local) => Some(
                local
                    .block(local.entry_block())
                    .instrs
                    .iter()
                    .map(|(i, _)| i.clone())
                    .collect(),
            ),
            _ => None,
        }
    }

    fn is_unreachable(body: &Option<Vec<Instr>>) -> bool {
        matches!(body.as_deref(), Some([Instr::Unreachable(_)]))
    }

    #[test]
    fn empties_async_hydration_and_drops_what_only_it_used() -> Result<()> {
        let (mut module, ids) = module(None);
        assert_eq!(prune(&mut module)?, 2);
        assert!(is_unreachable(&body(&module, id(&ids, "erased"))));
        assert!(is_unreachable(&body(&module, id(&ids, "future"))));
        assert!(body(&module, id(&ids, "helper")).is_none());
        for kept in ["hydrate", "drop"] {
            let kept = body(&module, id(&ids, kept));
            assert!(kept.is_some() && !is_unreachable(&kept));
        }
        // Still in the table (the views' pointers), and the module still reads back.
        let table = module
            .tables
            .iter()
            .next()
            .map(|t| t.id())
            .unwrap_or_else(|| panic!());
        let segment = module
            .tables
            .get(table)
            .elem_segments
            .iter()
            .next()
            .copied();
        let items = segment.map(|s| &module.elements.get(s).items);
        assert!(matches!(items, Some(walrus::ElementItems::Functions(f)) if f.len() == 2));
        let bytes = module.emit_wasm();
        assert!(Module::from_buffer(&bytes).is_ok());
        Ok(())
    }

    #[test]
    fn refuses_a_module_that_hydrates_lazily() {
        let lazy = "leptos[99ff]::mount::hydrate_lazy::<app[cd34]::App>";
        let (mut module, _) = module(Some((lazy, "leaf")));
        let error = prune(&mut module).map(|_| ()).unwrap_err().to_string();
        assert!(error.contains("hydrates lazily"), "{error}");
    }

    #[test]
    fn refuses_when_live_code_calls_what_it_would_empty() {
        let (mut module, _) = module(Some(("app[cd34]::chat::live", "erased")));
        let error = prune(&mut module).map(|_| ()).unwrap_err().to_string();
        assert!(error.contains("app::chat::live"), "{error}");
    }

    #[test]
    fn refuses_a_module_with_nothing_to_prune() {
        let mut module = Module::with_config(ModuleConfig::new());
        let error = prune(&mut module).map(|_| ()).unwrap_err().to_string();
        assert!(error.contains("found no function"), "{error}");
    }

    #[test]
    fn crate_hashes_are_left_out_of_names_and_nothing_else() {
        assert_eq!(
            without_crate_hashes("<_ as tachys[f0ba]::IntoAny>::x::<[u8; 4], [], app[6a51]::V>"),
            "<_ as tachys::IntoAny>::x::<[u8; 4], [], app::V>"
        );
    }
}
