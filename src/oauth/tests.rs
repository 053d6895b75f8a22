//! Tests of the resource server: tokens made here with keys made here.
