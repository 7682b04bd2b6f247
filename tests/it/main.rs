//! The one integration-test binary.
mod fmt;

mod ci_formats;
mod cli;
mod codes;
mod fault_proxy;
mod fault_support;
mod lab_scenarios;
mod lab_support;
mod mistakes;
mod pictures;
mod robustness;
mod runtime_docker;
mod runtime_docker_tls;
mod runtime_faults;
mod runtime_injection;
mod runtime_lab;
mod runtime_mysql;
mod runtime_mysql_tls;
mod runtime_playbook;
mod runtime_secrets;
mod runtime_ssh;
mod runtime_zk;
mod stdlib;
mod support;
