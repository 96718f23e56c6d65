//! `wasm-prune FILE`: leaves Leptos's asynchronous hydration out of a WASM file that
//! `wasm-bindgen` wrote, before `wasm-opt` shrinks it.
//!
//! Every view Leptos type-erases (every component, under `--cfg erase_components`) carries a
//! pointer to a function that hydrates it asynchronously. Only `leptos::mount::hydrate_lazy`
//! (lazy routes) starts that kind of hydration; Whisper hydrates with `hydrate_body`, so none of
//! those functions ever runs, but the pointers keep them all in the file, where no optimiser can
//! see that they are never called. This replaces each one's body with `unreachable` and drops
//! what only they used: about 5 % of the release WASM (BENCHMARKS.md, thirtieth session).
//!
//! It refuses a file that links `hydrate_lazy`, where the pruned code would run, and one in which
//! it finds nothing to prune (Leptos renamed the functions: update [`ASYNC_HYDRATION`]).
//!
//! `scripts/build-release.sh` runs it through `scripts/wasm-opt/wasm-opt`, which cargo-leptos
//! finds first on its `PATH` and calls on the `wasm-bindgen` output.

use anyhow::{Context, Result, bail};
use walrus::{FunctionKind, Module};

/// Part of the demangled name of each erased view's asynchronous hydration (tachys's
/// `IntoAny::into_any`, one per view type).
const ASYNC_HYDRATION: &str = "::into_any::hydrate_async::<";

/// Part of the name of the one function that starts asynchronous hydration.
const LAZY_HYDRATION: &str = "leptos::mount::hydrate_lazy";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(path), None) = (args.next(), args.next()) else {
        bail!("usage: wasm-prune FILE (the .wasm file, pruned in place)");
    };
    let mut module = Module::from_file(&path).with_context(|| format!("reading {path}"))?;
    let pruned = prune(&mut module)?;
    module
        .emit_wasm_file(&path)
        .with_context(|| format!("writing {path}"))?;
    println!("wasm-prune: {pruned} asynchronous hydration functions left out of {path}");
    Ok(())
}

/// Empties every asynchronous hydration function of `module` and drops what only they used;
/// returns how many it emptied.
fn prune(module: &mut Module) -> Result<usize> {
    // The names carry crate hashes in brackets (`leptos[0123abcd]::mount::...`): compare
    // without them.
    let named = |name: &str, part: &str| without_crate_hashes(name).contains(part);
    if module
        .funcs
        .iter()
        .any(|f| f.name.as_deref().is_some_and(|n| named(n, LAZY_HYDRATION)))
    {
        bail!("this WASM hydrates lazily ({LAZY_HYDRATION}): its asynchronous hydration runs");
    }
    let targets: Vec<_> = module
        .funcs
        .iter()
        .filter(|f| matches!(f.kind, FunctionKind::Local(_)))
        .filter(|f| f.name.as_deref().is_some_and(|n| named(n, ASYNC_HYDRATION)))
        .map(|f| f.id())
        .collect();
    if targets.is_empty() {
        bail!("found no function named like `{ASYNC_HYDRATION}`: no names, or Leptos renamed it");
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

/// `a[0f1e]::b` → `a::b`.
fn without_crate_hashes(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        match rest.find(']') {
            Some(close) if rest[1..close].bytes().all(|b| b.is_ascii_hexdigit()) => {
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
    use walrus::{FunctionBuilder, FunctionId, ModuleConfig, ValType};

    /// A module whose exported `hydrate` calls `kept`, and whose table holds `erased`, an
    /// asynchronous hydration function that alone calls `helper`.
    fn module(extra: Option<&str>) -> (Module, [FunctionId; 3]) {
        let mut module = Module::with_config(ModuleConfig::new());
        let function = |module: &mut Module, name: &str, calls: Option<FunctionId>| {
            let mut builder = FunctionBuilder::new(&mut module.types, &[], &[ValType::I32]);
            let mut body = builder.func_body();
            if let Some(callee) = calls {
                body.call(callee);
            } else {
                body.i32_const(7);
            }
            let id = builder.finish(vec![], &mut module.funcs);
            module.funcs.get_mut(id).name = Some(name.to_owned());
            id
        };
        let helper = function(
            &mut module,
            "tachys[ab12]::html::element::hydrate_async_state",
            None,
        );
        let erased = function(
            &mut module,
            "<_ as tachys[ab12]::view::any_view::IntoAny>::into_any::hydrate_async::<app[cd34]::View>",
            Some(helper),
        );
        let kept = function(
            &mut module,
            "<_ as tachys[ab12]::view::any_view::IntoAny>::into_any::hydrate_from_server::<app[cd34]::View>",
            None,
        );
        let hydrate = function(&mut module, "hydrate", Some(kept));
        module.exports.add("hydrate", hydrate);
        let table = module
            .tables
            .add_local(false, 1, None, walrus::RefType::FUNCREF);
        module.exports.add("table", table);
        let segment = module.elements.add(
            walrus::ElementKind::Active {
                table,
                offset: walrus::ConstExpr::Value(walrus::ir::Value::I32(0)),
            },
            walrus::ElementItems::Functions(vec![erased]),
        );
        // As walrus records it when it reads a file.
        module.tables.get_mut(table).elem_segments.insert(segment);
        if let Some(name) = extra {
            let lazy = function(&mut module, name, None);
            module.exports.add("lazy", lazy);
        }
        (module, [helper, erased, kept])
    }

    fn names(module: &Module) -> Vec<String> {
        module.funcs.iter().filter_map(|f| f.name.clone()).collect()
    }

    #[test]
    fn empties_async_hydration_and_drops_what_only_it_used() -> Result<()> {
        let (mut module, [helper, erased, kept]) = module(None);
        assert_eq!(prune(&mut module)?, 1);
        let body = |id| match &module.funcs.get(id).kind {
            FunctionKind::Local(function) => function.block(function.entry_block()).instrs.len(),
            _ => 0,
        };
        // Still in the table, but its body is a single `unreachable`.
        assert_eq!(body(erased), 1);
        assert!(matches!(
            &module.funcs.get(erased).kind,
            FunctionKind::Local(function)
                if matches!(function.block(function.entry_block()).instrs[0].0, walrus::ir::Instr::Unreachable(_))
        ));
        assert_eq!(body(kept), 1);
        assert!(
            !names(&module)
                .iter()
                .any(|n| n.contains("hydrate_async_state"))
        );
        assert!(module.funcs.iter().all(|f| f.id() != helper));
        // The module still writes out.
        assert!(!module.emit_wasm().is_empty());
        Ok(())
    }

    #[test]
    fn refuses_a_module_that_hydrates_lazily() {
        let (mut module, _) = module(Some("leptos[99ff]::mount::hydrate_lazy::<app[cd34]::App>"));
        let error = prune(&mut module).map(|_| ()).unwrap_err().to_string();
        assert!(error.contains("hydrates lazily"), "{error}");
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
            without_crate_hashes("<_ as tachys[f0ba]::IntoAny>::x::<[u8; 4], app[6a51]::V>"),
            "<_ as tachys::IntoAny>::x::<[u8; 4], app::V>"
        );
    }
}
