//! Procedural macros of `synthlab-db`.
//!
//! - [`macro@repository`] goes on a repository trait (above `#[async_trait]`). Each method of
//!   the trait is marked `#[read]` or `#[write]` once; from that one list the macro generates
//!   the two wrappers every call passes through: `crate::observe::Traced<R>` (inputs checked
//!   through `crate::model::Input`, then one tracing span) and
//!   `crate::cutover::Routed<dyn Trait>` (dual writes, shadow reads). The behaviour of both
//!   lives once in those types; the macro only writes the forwarding.
//! - [`macro@Input`] derives `crate::model::Input` for an input struct: every field is checked
//!   through its type's `Input` implementation.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields, FnArg, ItemTrait, Pat, TraitItem, TraitItemFn, Type, parse_macro_input};

/// Whether a repository method reads or writes (what the cutover does with it).
#[derive(Clone, Copy)]
enum Access {
    Read,
    Write,
}

/// One argument of a repository method: its name and type.
struct Arg {
    /// The generated binding (`__arg1`, …).
    binding: syn::Ident,
    /// The parameter name written in the trait (the label of input errors).
    label: String,
    ty: Type,
}

/// One method of a repository trait, as the wrappers see it.
struct Method {
    sig: syn::Signature,
    access: Access,
    args: Vec<Arg>,
}

/// Removes the `#[read]` / `#[write]` mark of a method and returns it.
fn take_access(method: &mut TraitItemFn) -> syn::Result<Access> {
    let mut found = Vec::new();
    method.attrs.retain(|attr| {
        let access = if attr.path().is_ident("read") {
            Access::Read
        } else if attr.path().is_ident("write") {
            Access::Write
        } else {
            return true;
        };
        found.push((access, attr.clone()));
        false
    });
    match found.as_slice() {
        [(access, attr)] => match attr.meta.require_path_only() {
            Ok(_) => Ok(*access),
            Err(err) => Err(err),
        },
        [] => Err(syn::Error::new_spanned(
            &method.sig,
            format!(
                "repository method `{}` must be marked #[read] or #[write] (the cutover routes it by that mark)",
                method.sig.ident
            ),
        )),
        [_, (_, second), ..] => Err(syn::Error::new_spanned(
            second,
            "a repository method is marked once: #[read] or #[write]",
        )),
    }
}

/// The method as the wrappers forward it: arguments renamed `__argN`, labels kept.
fn method(item: &mut TraitItemFn) -> syn::Result<Method> {
    let access = take_access(item)?;
    if item.sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            &item.sig,
            "repository methods are async (the wrappers trace and route every call)",
        ));
    }
    let mut sig = item.sig.clone();
    let mut args = Vec::new();
    let mut has_receiver = false;
    for (index, input) in sig.inputs.iter_mut().enumerate() {
        match input {
            FnArg::Receiver(receiver) if receiver.reference.is_some() && receiver.mutability.is_none() => {
                has_receiver = true;
            }
            FnArg::Receiver(receiver) => {
                return Err(syn::Error::new_spanned(receiver, "repository methods take &self"));
            }
            FnArg::Typed(typed) => {
                let label = match &*typed.pat {
                    Pat::Ident(ident) => ident.ident.to_string(),
                    _ => format!("argument {index}"),
                };
                let binding = format_ident!("__arg{index}");
                *typed.pat = syn::parse_quote!(#binding);
                args.push(Arg {
                    binding,
                    label,
                    ty: (*typed.ty).clone(),
                });
            }
        }
    }
    if !has_receiver {
        return Err(syn::Error::new_spanned(&item.sig, "repository methods take &self"));
    }
    Ok(Method { sig, access, args })
}

/// `let __argN = <checked __argN>;` for every argument, and the expressions that pass the
/// checked values on: a reference argument is re-borrowed from its checked `Cow`, a value
/// argument is taken out of it.
fn checked_args(args: &[Arg]) -> (Vec<proc_macro2::TokenStream>, Vec<proc_macro2::TokenStream>) {
    let mut lets = Vec::new();
    let mut passes = Vec::new();
    for Arg { binding, label, ty } in args {
        match ty {
            Type::Reference(reference) => {
                let elem = &reference.elem;
                lets.push(quote! {
                    let #binding = <#elem as crate::model::Input>::checked(#binding, #label)?;
                });
                passes.push(quote! { &*#binding });
            }
            _ => {
                lets.push(quote! {
                    let #binding: #ty = <#ty as crate::model::Input>::checked(&#binding, #label)?.into_owned();
                });
                passes.push(quote! { #binding });
            }
        }
    }
    (lets, passes)
}

/// Generates, next to the trait, its two wrappers (see the crate documentation):
///
/// - `impl<R: Trait> Trait for crate::observe::Traced<R>`: every argument is checked through
///   `crate::model::Input` (refused or normalised, the same for both backends), then the
///   wrapped repository is called inside `Traced::call` (one span per call);
/// - `impl Trait for crate::cutover::Routed<dyn Trait>`: a `#[write]` method goes through
///   `Routed::write` (dual write), a `#[read]` method through `Routed::read` (shadow read).
///
/// Every method must be async, take `&self`, and carry exactly one of `#[read]` / `#[write]`;
/// anything else is a compile error. Place it above `#[async_trait]`.
#[proc_macro_attribute]
pub fn repository(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new(Span::call_site(), "#[repository] takes no arguments")
            .to_compile_error()
            .into();
    }
    let mut trait_item = parse_macro_input!(item as ItemTrait);
    let mut methods = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for item in &mut trait_item.items {
        let TraitItem::Fn(fn_item) = item else { continue };
        match method(fn_item) {
            Ok(method) => methods.push(method),
            Err(err) => match &mut errors {
                Some(errors) => errors.combine(err),
                None => errors = Some(err),
            },
        }
    }
    if let Some(errors) = errors {
        let compile_errors = errors.to_compile_error();
        return quote! { #trait_item #compile_errors }.into();
    }
    let trait_name = &trait_item.ident;
    let repository = trait_name.to_string();

    let traced = methods.iter().map(|Method { sig, args, .. }| {
        let name = &sig.ident;
        let method_name = name.to_string();
        let (lets, passes) = checked_args(args);
        quote! {
            #sig {
                self.call(#repository, #method_name, async move {
                    #(#lets)*
                    <R as #trait_name>::#name(self.inner(), #(#passes),*).await
                })
                .await
            }
        }
    });

    let routed = methods.iter().map(|Method { sig, access, args }| {
        let name = &sig.ident;
        let method_name = name.to_string();
        let bindings: Vec<_> = args.iter().map(|arg| &arg.binding).collect();
        let route = match access {
            Access::Read => quote! { read },
            Access::Write => quote! { write },
        };
        quote! {
            #sig {
                self.#route(
                    #method_name,
                    || crate::cutover::short_key(&[#(&#bindings as &dyn ::std::fmt::Debug),*]),
                    self.primary.#name(#(#bindings),*),
                    self.secondary.#name(#(#bindings),*),
                )
                .await
            }
        }
    });

    quote! {
        #trait_item

        #[::async_trait::async_trait]
        impl<R: #trait_name> #trait_name for crate::observe::Traced<R> {
            #(#traced)*
        }

        #[::async_trait::async_trait]
        impl #trait_name for crate::cutover::Routed<dyn #trait_name> {
            #(#routed)*
        }
    }
    .into()
}

/// Derives `crate::model::Input` for a struct with named fields: the checked copy checks
/// every field through its type's `Input` (text refuses NUL, floats must be finite, JSON and
/// times are normalised, options and nested inputs recurse), so a field added later is
/// checked without anyone remembering to.
#[proc_macro_derive(Input)]
pub fn derive_input(item: TokenStream) -> TokenStream {
    let input = parse_macro_input!(item as DeriveInput);
    let name = &input.ident;
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => &fields.named,
            _ => {
                return syn::Error::new_spanned(&input.ident, "#[derive(Input)] needs named fields")
                    .to_compile_error()
                    .into();
            }
        },
        _ => {
            return syn::Error::new_spanned(&input.ident, "#[derive(Input)] is for structs")
                .to_compile_error()
                .into();
        }
    };
    let checked = fields.iter().map(|field| {
        let ident = field.ident.as_ref().map(|i| i.to_string()).unwrap_or_default();
        let field_name = &field.ident;
        let ty = &field.ty;
        let label = format!("{name}.{ident}");
        quote! {
            #field_name: <#ty as crate::model::Input>::checked(&self.#field_name, #label)?.into_owned()
        }
    });
    quote! {
        impl crate::model::Input for #name {
            fn checked(&self, _what: &str) -> crate::Result<::std::borrow::Cow<'_, Self>> {
                Ok(::std::borrow::Cow::Owned(#name { #(#checked),* }))
            }
        }
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method_of(source: &str) -> syn::Result<Method> {
        let mut item: TraitItemFn = syn::parse_str(source).expect("a trait method");
        method(&mut item)
    }

    fn error_of(source: &str) -> String {
        match method_of(source) {
            Ok(_) => panic!("accepted: {source}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn a_marked_method_keeps_its_labels_and_loses_its_mark() {
        let mut item: TraitItemFn =
            syn::parse_str("#[write] async fn save(&self, entry: &Entry, n: i64) -> Result<()>;").expect("method");
        let parsed = method(&mut item).expect("marked");
        assert!(matches!(parsed.access, Access::Write));
        assert!(item.attrs.is_empty(), "the mark is removed from the trait");
        let labels: Vec<_> = parsed.args.iter().map(|a| a.label.as_str()).collect();
        assert_eq!(labels, ["entry", "n"]);
        assert!(matches!(
            method_of("#[read] async fn get(&self, id: &str) -> Result<()>;").map(|m| m.access),
            Ok(Access::Read)
        ));
    }

    #[test]
    fn an_unmarked_twice_marked_or_blocking_method_is_refused() {
        assert!(
            error_of("async fn get(&self, id: &str) -> Result<()>;").contains("must be marked #[read] or #[write]")
        );
        assert!(error_of("#[read] #[write] async fn get(&self) -> Result<()>;").contains("marked once"));
        assert!(error_of("#[read] fn get(&self) -> Result<()>;").contains("are async"));
        assert!(error_of("#[read(x)] async fn get(&self) -> Result<()>;").contains("unexpected"));
        assert!(error_of("#[read] async fn get(self) -> Result<()>;").contains("take &self"));
    }
}
