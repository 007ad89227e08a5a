//! Procedural macros of `synthlab-db`.
//!
//! [`macro@traced`] goes on a repository trait (above `#[async_trait]`) and generates, next to
//! the unchanged trait, its implementation for `crate::observe::Traced<R>`: every async method
//! forwards to the wrapped repository inside one tracing span (backend, repository, method,
//! rows, duration) with the slow-call warning. The shared behaviour lives once, in
//! `Traced::call`; this macro only writes the forwarding that a hand-written decorator would.

use proc_macro::TokenStream;
use quote::{format_ident, quote};
use syn::{FnArg, ItemTrait, TraitItem, parse_macro_input};

/// Generates `impl<R: Trait> Trait for crate::observe::Traced<R>` for a repository trait.
///
/// Async methods run through `Traced::call` (one span per call); other methods forward as
/// they are. Place it above `#[async_trait]` so that it sees the `async fn`s.
#[proc_macro_attribute]
pub fn traced(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new(proc_macro2::Span::call_site(), "#[traced] takes no arguments")
            .to_compile_error()
            .into();
    }
    let original = proc_macro2::TokenStream::from(item.clone());
    let trait_item = parse_macro_input!(item as ItemTrait);
    let trait_name = &trait_item.ident;
    let repository = trait_name.to_string();
    let mut methods = Vec::new();
    for item in &trait_item.items {
        let TraitItem::Fn(method) = item else { continue };
        let mut sig = method.sig.clone();
        let name = &sig.ident;
        let mut args = Vec::new();
        let mut has_receiver = false;
        for (index, input) in sig.inputs.iter_mut().enumerate() {
            match input {
                FnArg::Receiver(_) => has_receiver = true,
                FnArg::Typed(typed) => {
                    let arg = format_ident!("__arg{index}");
                    *typed.pat = syn::parse_quote!(#arg);
                    args.push(arg);
                }
            }
        }
        if !has_receiver {
            return syn::Error::new_spanned(&method.sig, "#[traced] supports methods taking &self only")
                .to_compile_error()
                .into();
        }
        let method_name = name.to_string();
        let forward = quote! { <R as #trait_name>::#name(self.inner(), #(#args),*) };
        let body = if sig.asyncness.is_some() {
            quote! { self.call(#repository, #method_name, #forward).await }
        } else {
            forward
        };
        methods.push(quote! { #sig { #body } });
    }
    quote! {
        #original

        #[::async_trait::async_trait]
        impl<R: #trait_name> #trait_name for crate::observe::Traced<R> {
            #(#methods)*
        }
    }
    .into()
}
