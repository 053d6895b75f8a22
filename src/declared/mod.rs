pub(crate) mod confine;
pub(crate) mod resource;
pub(crate) mod watch;
