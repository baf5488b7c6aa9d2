#![recursion_limit = "256"]
//! NeoSC: a multi-tenant admin console for secure cloud workspaces.
//!
//! One crate, two builds: with `ssr` it is the server (axum, database,
//! services) and renders every page; with `hydrate` it is the WASM that
//! makes those pages interactive in the browser. `model` and the views are
//! shared by both.

pub mod api;
pub mod app;
pub mod components;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
