// With the Python bindings, PyO3's `Py_3_*` cfgs for the interpreter being built for (the instance
// `__dict__` of the Python-class-like types is 3.13+ only: see src/py/instance_dict.rs).
fn main() {
    #[cfg(feature = "python")]
    pyo3_build_config::use_pyo3_cfgs();
}
