//! Server functions: the pages' way to the server. Each is a public POST
//! endpoint under `/api/fn/…`, checks who is calling itself, and calls the
//! service layer; none holds a rule or a query of its own.

pub mod account;
pub mod audit;
pub mod audit_status;
pub mod audit_stream;
pub mod auth;
pub mod domains;
pub mod orgs;
pub mod workspaces;
