//! Integration tests over HTTP. Every test runs twice, against SQLite and
//! against PostgreSQL, each time on a fresh database of its own.

#[macro_use]
mod helpers;

mod assets;
mod audit_chain;
mod audit_checkpoints;
mod audit_read;
mod audit_refusals;
mod audit_retention;
mod audit_stream;
mod auth;
mod contract;
mod dns_server;
mod domains;
mod engine;
mod hygiene;
mod identity;
mod instance;
mod matrix;
mod oidc_op;
mod organizations;
mod platform;
mod proxy;
mod quotas;
mod reauth;
mod request_id;
mod rules;
mod secrets;
mod smtp_sink;
mod sso;
mod start_gate;
mod sweeper;
mod tenancy;
mod throttle;
mod validation;
mod verified_email;
mod workspaces;
