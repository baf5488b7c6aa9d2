//! Everything that runs only on the server: configuration, storage,
//! authentication, business rules and the HTTP surface.

pub mod assets;
pub mod audit_checkpointer;
pub mod audit_delivery;
pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod dns;
pub mod engine;
pub mod error;
pub mod mailer;
pub mod reconciler;
pub mod request_id;
pub mod rest;
pub mod serve;
pub mod service;
pub mod sfn;
pub mod startup;
pub mod state;
pub mod sweeper;
pub mod web;
