//! `with lock:` without allocating two bound methods per block.
//!
//! Up to 3.13 the interpreter's `with` looks `__enter__` and `__exit__` up on the type and binds
//! each to the instance: two `builtin_function_or_method` objects made and freed per block,
//! ~45 ns of the ~120 ns a `with lock: pass` costs on 3.13t (measured: `lock.__enter__` alone
//! 59 ns against 14 ns for `lock`; `lock.__enter__(); lock.__exit__(None, None, None)` 77 ns,
//! where the interpreter binds nothing, against `with lock: pass` 120 ns).
//!
//! For a method registered here the class's dict holds a `Method` in front of the PyO3 method
//! descriptor. Bound to an instance, it hands out a `BoundMethod` whose memory the instance
//! keeps for the next time (one per method, in the instance's `WithSlots`): when a block's
//! bound method is freed its memory goes back to the instance's slot (or, if the slot is
//! taken, to the allocator), and the next `with` on that instance re-initialises it with
//! `PyObject_Init` instead of allocating. While handed out, a `BoundMethod` holds a strong
//! reference to its instance, as a bound method does; while in the slot it holds nothing, so
//! the instance is freed by its reference count exactly as before. A `BoundMethod` calls the
//! method's C function directly (as `builtin_function_or_method` does) and answers every
//! attribute, `repr`, `==` and `hash` as the ordinary bound method would (by making one: these
//! are not hot). Unbound access (`Lock.__enter__`) gets the method descriptor itself, and an
//! explicit call `lock.__enter__()` goes through `Method`'s vectorcall without binding
//! (`Py_TPFLAGS_METHOD_DESCRIPTOR`).

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::ffi::{c_int, c_uint, c_void, CStr};
use std::ptr::{addr_of_mut, null_mut};
use std::sync::atomic::{AtomicPtr, Ordering};

/// The memory of an instance's spare bound `__enter__` and `__exit__` (dead objects, or null).
// Not a reference: the memory is re-initialised as a new object when handed out again.
#[derive(Default)]
pub struct WithSlots([AtomicPtr<ffi::PyObject>; 2]);

impl Drop for WithSlots {
    fn drop(&mut self) {
        for slot in &self.0 {
            let p = slot.swap(null_mut(), Ordering::Acquire);
            if !p.is_null() {
                // SAFETY: the memory of a `BoundMethod` freed into this slot (allocated by
                // `PyType_GenericAlloc`, i.e. `PyObject_Malloc`); the instance is being
                // dropped in its `tp_dealloc`, attached.
                unsafe { ffi::PyObject_Free(p.cast()) };
            }
        }
    }
}

/// A class whose instances keep the memory of their bound `__enter__`/`__exit__`.
pub trait HasWithSlots: pyo3::PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Sync {
    fn with_slots(&self) -> &WithSlots;
}

/// The method in front of a PyO3 method descriptor, in the class's dict.
#[repr(C)]
struct Method {
    ob_base: ffi::PyObject,
    vectorcall: Option<ffi::vectorcallfunc>,
    /// The PyO3 method descriptor (a strong reference).
    descr: *mut ffi::PyObject,
    /// The class, for the check that an instance is one of it.
    owner: *mut ffi::PyTypeObject,
    /// The descriptor's method (lives as long as the class).
    def: *mut ffi::PyMethodDef,
    /// Where an instance keeps its spare bound method for this method.
    slot_of: unsafe fn(*mut ffi::PyObject) -> *const AtomicPtr<ffi::PyObject>,
}

/// A bound method whose memory came from (and goes back to) its instance's slot.
#[repr(C)]
struct BoundMethod {
    ob_base: ffi::PyObject,
    vectorcall: Option<ffi::vectorcallfunc>,
    /// The instance (a strong reference).
    target: *mut ffi::PyObject,
    def: *mut ffi::PyMethodDef,
    slot: *const AtomicPtr<ffi::PyObject>,
}

static METHOD_TYPE: AtomicPtr<ffi::PyTypeObject> = AtomicPtr::new(null_mut());
static BOUND_TYPE: AtomicPtr<ffi::PyTypeObject> = AtomicPtr::new(null_mut());

unsafe fn slot_of<T: HasWithSlots, const I: usize>(obj: *mut ffi::PyObject) -> *const AtomicPtr<ffi::PyObject> {
    // SAFETY: called attached, with an instance of `T` (checked by `method_get`).
    unsafe {
        let py = Python::assume_attached();
        let obj = pyo3::Borrowed::from_ptr(py, obj);
        &obj.cast_unchecked::<T>().get().with_slots().0[I]
    }
}

/// A new ordinary bound method for `def` on `target` (for what is not hot).
unsafe fn materialise(b: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: `b` is a live `BoundMethod`.
    unsafe {
        let b = b.cast::<BoundMethod>();
        ffi::PyCFunction_NewEx((*b).def, (*b).target, null_mut())
    }
}

unsafe extern "C" fn method_get(
    slf: *mut ffi::PyObject,
    obj: *mut ffi::PyObject,
    ty: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: `slf` is a `Method`; CPython passes a borrowed instance (or null) and type.
    unsafe {
        let m = slf.cast::<Method>();
        if obj.is_null() {
            // Looked up on the class: the method descriptor, as PyO3 made it.
            ffi::Py_INCREF((*m).descr);
            return (*m).descr;
        }
        if ffi::PyObject_TypeCheck(obj, (*m).owner) == 0 {
            // Not an instance: the descriptor's own error.
            let get = (*ffi::Py_TYPE((*m).descr)).tp_descr_get.expect("a method descriptor binds");
            return get((*m).descr, obj, ty);
        }
        let slot = ((*m).slot_of)(obj);
        let bound_type = BOUND_TYPE.load(Ordering::Relaxed);
        let mut p = (*slot).swap(null_mut(), Ordering::Acquire);
        if p.is_null() {
            p = ffi::PyType_GenericAlloc(bound_type, 0);
            if p.is_null() {
                return null_mut();
            }
        } else {
            ffi::PyObject_Init(p, bound_type);
        }
        let b = p.cast::<BoundMethod>();
        (*b).vectorcall = Some(bound_call);
        ffi::Py_INCREF(obj);
        (*b).target = obj;
        (*b).def = (*m).def;
        (*b).slot = slot;
        p
    }
}

unsafe extern "C" fn method_call(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargsf: usize,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: `slf` is a `Method`: called unbound (`lock.__enter__()` looked up as a method),
    // it calls its C function directly when the first argument is an instance and the call
    // has the function's shape, as its descriptor does; otherwise the descriptor does it all.
    unsafe {
        let m = slf.cast::<Method>();
        let nargs = ffi::PyVectorcall_NARGS(nargsf);
        if nargs >= 1 && ffi::PyObject_TypeCheck(*args, (*m).owner) != 0 {
            if let Some(r) = call_def(&*(*m).def, *args, args.add(1), nargs - 1, kwnames) {
                return r;
            }
        }
        ffi::PyObject_Vectorcall((*m).descr, args, nargsf, kwnames)
    }
}

/// Calls `def`'s C function on `target` if the call has the function's shape.
#[inline(always)]
unsafe fn call_def(
    def: &ffi::PyMethodDef,
    target: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> Option<*mut ffi::PyObject> {
    // SAFETY: `def` is a PyO3 method's, of the calling convention its flags say; `target` an
    // instance of its class; `args` holds `nargs` arguments and then the `kwnames` values.
    unsafe {
        if def.ml_flags == ffi::METH_FASTCALL | ffi::METH_KEYWORDS {
            return Some((def.ml_meth.PyCFunctionFastWithKeywords)(target, args, nargs, kwnames));
        }
        if def.ml_flags == ffi::METH_NOARGS && nargs == 0 && (kwnames.is_null() || ffi::PyTuple_GET_SIZE(kwnames) == 0)
        {
            return Some((def.ml_meth.PyCFunction)(target, null_mut()));
        }
        None
    }
}

unsafe extern "C" fn method_getattro(slf: *mut ffi::PyObject, name: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: `slf` is a `Method`; its name, doc, `__objclass__`... are its descriptor's.
    unsafe { ffi::PyObject_GetAttr((*slf.cast::<Method>()).descr, name) }
}

unsafe extern "C" fn method_repr(slf: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: as in `method_getattro`.
    unsafe { ffi::PyObject_Repr((*slf.cast::<Method>()).descr) }
}

unsafe extern "C" fn method_dealloc(slf: *mut ffi::PyObject) {
    // SAFETY: `slf` is a `Method` whose last reference went (a class dict replaced or freed).
    unsafe {
        let ty = ffi::Py_TYPE(slf);
        ffi::Py_DECREF((*slf.cast::<Method>()).descr);
        ffi::PyObject_Free(slf.cast());
        ffi::Py_DECREF(ty.cast());
    }
}

unsafe extern "C" fn bound_call(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargsf: usize,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: `slf` is a live `BoundMethod` (the caller holds it, and it holds its target);
    // `def` is the PyO3 method's, of the calling convention its flags say.
    unsafe {
        let b = slf.cast::<BoundMethod>();
        if let Some(r) = call_def(&*(*b).def, (*b).target, args, ffi::PyVectorcall_NARGS(nargsf), kwnames) {
            return r;
        }
        // Another shape (an argument error to report, or a convention not handled here).
        as_real(slf, |real| ffi::PyObject_Vectorcall(real, args, nargsf, kwnames))
    }
}

/// Applies `f` to the ordinary bound method that `slf` stands for.
unsafe fn as_real(
    slf: *mut ffi::PyObject,
    f: impl FnOnce(*mut ffi::PyObject) -> *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: `slf` is a live `BoundMethod`.
    unsafe {
        let real = materialise(slf);
        if real.is_null() {
            return null_mut();
        }
        let r = f(real);
        ffi::Py_DECREF(real);
        r
    }
}

unsafe extern "C" fn bound_getattro(slf: *mut ffi::PyObject, name: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: `slf` is a `BoundMethod`.
    unsafe { as_real(slf, |real| ffi::PyObject_GetAttr(real, name)) }
}

unsafe extern "C" fn bound_repr(slf: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: `slf` is a `BoundMethod`.
    unsafe { as_real(slf, |real| ffi::PyObject_Repr(real)) }
}

unsafe extern "C" fn bound_hash(slf: *mut ffi::PyObject) -> ffi::Py_hash_t {
    // SAFETY: `slf` is a `BoundMethod`.
    unsafe {
        let real = materialise(slf);
        if real.is_null() {
            return -1;
        }
        let h = ffi::PyObject_Hash(real);
        ffi::Py_DECREF(real);
        h
    }
}

unsafe extern "C" fn bound_richcompare(a: *mut ffi::PyObject, b: *mut ffi::PyObject, op: c_int) -> *mut ffi::PyObject {
    // SAFETY: `a` is a `BoundMethod`; `b` any object.
    unsafe {
        let bound_type = BOUND_TYPE.load(Ordering::Relaxed);
        as_real(a, |ra| {
            if ffi::Py_TYPE(b) == bound_type {
                as_real(b, |rb| ffi::PyObject_RichCompare(ra, rb, op))
            } else {
                ffi::PyObject_RichCompare(ra, b, op)
            }
        })
    }
}

unsafe extern "C" fn bound_dealloc(slf: *mut ffi::PyObject) {
    // SAFETY: `slf` is a `BoundMethod` whose last reference went; its target is alive (it
    // holds it) until the decref at the end, after which `slf` is not touched: the memory may
    // be taken from the slot by another thread, or freed with the target.
    unsafe {
        let b = slf.cast::<BoundMethod>();
        let ty = ffi::Py_TYPE(slf);
        let target = (*b).target;
        if (*(*b).slot).compare_exchange(null_mut(), slf, Ordering::Release, Ordering::Relaxed).is_err() {
            ffi::PyObject_Free(slf.cast());
        }
        ffi::Py_DECREF(ty.cast());
        ffi::Py_DECREF(target);
    }
}

/// Makes `op` immortal on the free-threaded build: its reference count is never written again.
/// The interpreter's `with` takes a reference to the `Method` it finds on the class (and a new
/// `BoundMethod` to its type) for every block: counted, these writes to one object from every
/// thread made two threads `with`-ing their own locks 3x slower (443-515 ns against 134-201
/// ns per block). CPython does the same to its method descriptors once a second thread starts
/// (`_PyObject_SetDeferredRefcount`, not exported); these objects live as long as the process.
#[cfg(Py_GIL_DISABLED)]
unsafe fn immortalize(op: *mut ffi::PyObject) {
    // SAFETY: `op` is a live object that no other thread has seen yet; the fields are those of
    // CPython's `_Py_SetImmortalUntracked` (unowned, local count at its maximum, none shared).
    unsafe {
        (*op).ob_tid = 0;
        (*op).ob_ref_local.store(u32::MAX, Ordering::Relaxed);
        (*op).ob_ref_shared.store(0, Ordering::Relaxed);
    }
}

#[cfg(not(Py_GIL_DISABLED))]
unsafe fn immortalize(_op: *mut ffi::PyObject) {}

fn make_type(
    py: Python<'_>,
    name: &'static CStr,
    basicsize: usize,
    vectorcall_offset: usize,
    flags: c_uint,
    slots: &[(c_int, *mut c_void)],
) -> PyResult<*mut ffi::PyTypeObject> {
    let members = Box::leak(Box::new([
        ffi::PyMemberDef {
            name: c"__vectorcalloffset__".as_ptr(),
            type_code: ffi::Py_T_PYSSIZET,
            offset: vectorcall_offset as ffi::Py_ssize_t,
            flags: ffi::Py_READONLY,
            doc: std::ptr::null(),
        },
        // SAFETY: the terminator: all zeros.
        unsafe { std::mem::zeroed() },
    ]));
    let mut all: Vec<ffi::PyType_Slot> = slots.iter().map(|&(slot, pfunc)| ffi::PyType_Slot { slot, pfunc }).collect();
    all.push(ffi::PyType_Slot { slot: ffi::Py_tp_members, pfunc: members.as_mut_ptr().cast() });
    all.push(ffi::PyType_Slot { slot: 0, pfunc: null_mut() });
    let all = Box::leak(all.into_boxed_slice());
    let spec = Box::leak(Box::new(ffi::PyType_Spec {
        name: name.as_ptr(),
        basicsize: basicsize as c_int,
        itemsize: 0,
        flags: ffi::Py_TPFLAGS_DEFAULT as c_uint | ffi::Py_TPFLAGS_HAVE_VECTORCALL as c_uint | flags,
        slots: all.as_mut_ptr(),
    }));
    // SAFETY: a complete spec, leaked: it lives as long as the type (the process).
    let ty = unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyType_FromSpec(spec))? }.into_ptr();
    // SAFETY: just made, seen by no other thread.
    unsafe { immortalize(ty) };
    Ok(ty.cast())
}

/// Creates the two types (once per process).
pub fn init(py: Python<'_>) -> PyResult<()> {
    if !BOUND_TYPE.load(Ordering::Acquire).is_null() {
        return Ok(());
    }
    // No instances from Python code; the types need no dict of their own.
    let fixed = (ffi::Py_TPFLAGS_IMMUTABLETYPE | ffi::Py_TPFLAGS_DISALLOW_INSTANTIATION) as c_uint;
    let method = make_type(
        py,
        c"rthreading._method",
        std::mem::size_of::<Method>(),
        std::mem::offset_of!(Method, vectorcall),
        fixed | ffi::Py_TPFLAGS_METHOD_DESCRIPTOR as c_uint,
        &[
            (ffi::Py_tp_descr_get, method_get as *mut c_void),
            (ffi::Py_tp_call, ffi::PyVectorcall_Call as *mut c_void),
            (ffi::Py_tp_getattro, method_getattro as *mut c_void),
            (ffi::Py_tp_repr, method_repr as *mut c_void),
            (ffi::Py_tp_dealloc, method_dealloc as *mut c_void),
        ],
    )?;
    let bound = make_type(
        py,
        c"rthreading._bound_method",
        std::mem::size_of::<BoundMethod>(),
        std::mem::offset_of!(BoundMethod, vectorcall),
        fixed,
        &[
            (ffi::Py_tp_call, ffi::PyVectorcall_Call as *mut c_void),
            (ffi::Py_tp_getattro, bound_getattro as *mut c_void),
            (ffi::Py_tp_repr, bound_repr as *mut c_void),
            (ffi::Py_tp_hash, bound_hash as *mut c_void),
            (ffi::Py_tp_richcompare, bound_richcompare as *mut c_void),
            (ffi::Py_tp_dealloc, bound_dealloc as *mut c_void),
        ],
    )?;
    METHOD_TYPE.store(method, Ordering::Release);
    BOUND_TYPE.store(bound, Ordering::Release);
    Ok(())
}

/// Puts a `Method` in front of `T`'s `__enter__` (`I` = 0) or `__exit__` (`I` = 1). Leaves the
/// class as it is if the attribute is not a method descriptor (or has a `Method` already).
pub fn install<T: HasWithSlots, const I: usize>(ty: &Bound<'_, PyType>) -> PyResult<()> {
    let py = ty.py();
    let name = if I == 0 { "__enter__" } else { "__exit__" };
    let descr = ty.getattr(name)?;
    // SAFETY: checked to be a method descriptor before reading it as one; `Method`'s memory
    // comes from `PyType_GenericAlloc` for its type, then is filled in.
    unsafe {
        if ffi::Py_TYPE(descr.as_ptr()) != addr_of_mut!(ffi::PyMethodDescr_Type) {
            return Ok(());
        }
        let def = (*(descr.as_ptr() as *mut ffi::PyMethodDescrObject)).d_method;
        let p = Bound::from_owned_ptr_or_err(py, ffi::PyType_GenericAlloc(METHOD_TYPE.load(Ordering::Acquire), 0))?;
        let m = p.as_ptr().cast::<Method>();
        (*m).vectorcall = Some(method_call);
        (*m).descr = descr.into_ptr();
        (*m).owner = ty.as_ptr().cast();
        (*m).def = def;
        (*m).slot_of = slot_of::<T, I>;
        immortalize(p.as_ptr());
        ty.setattr(name, p)?;
    }
    Ok(())
}
