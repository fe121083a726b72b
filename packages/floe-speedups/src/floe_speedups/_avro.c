/*
 * The blocks of an Avro object container, decoded by a plan: floe's projecting manifest
 * reader in C.
 *
 * floe_core builds the plan from the file's writer schema and the fields it needs (see
 * floe_core.iceberg._avro_plan): nested tuples whose first item is an opcode. This
 * module only follows it. Every length and count taken from the data is checked against the
 * end of its buffer before anything is read, nesting is bounded, and any damage raises
 * ValueError with what is wrong; floe turns that into its AvroError.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum {
    OP_NULL = 0, OP_BOOLEAN = 1, OP_LONG = 2, OP_FLOAT = 3, OP_DOUBLE = 4, OP_BYTES = 5,
    OP_STRING = 6, OP_FIXED = 7, OP_ENUM = 8, OP_UNION = 9, OP_RECORD = 10, OP_ARRAY = 11,
    OP_MAP = 12, OP_PAIRS = 13,
    OP_SKIP_VARINTS = 20, OP_SKIP_BYTES = 21, OP_SKIP_FIXED = 22, OP_SKIP_UNION = 23,
    OP_SKIP_RECORD = 24, OP_SKIP_BLOCKS = 25,
};

#define SYNC_SIZE 16
#define MAX_DEPTH 64

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
} Buf;

static int fail(const char *message) {
    PyErr_SetString(PyExc_ValueError, message);
    return -1;
}

/* A zig-zag varint (Avro int or long) into *out; -1 with ValueError at the end of data. */
static int read_long(Buf *b, int64_t *out) {
    uint64_t value = 0;
    int shift = 0;
    while (1) {
        if (b->p >= b->end) {
            return fail("the data ends inside a number");
        }
        unsigned char byte = *b->p++;
        value |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            break;
        }
        shift += 7;
        if (shift > 63) {
            return fail("a number is longer than 10 bytes");
        }
    }
    *out = (int64_t)(value >> 1) ^ -(int64_t)(value & 1);
    return 0;
}

/* The length of the next bytes or string value, checked against the end of the buffer. */
static int read_size(Buf *b, Py_ssize_t *out) {
    int64_t size;
    if (read_long(b, &size) < 0) {
        return -1;
    }
    if (size < 0) {
        return fail("a negative byte length");
    }
    if (size > b->end - b->p) {
        PyErr_Format(PyExc_ValueError, "a value of %lld bytes runs past the end of the data",
                     (long long)size);
        return -1;
    }
    *out = (Py_ssize_t)size;
    return 0;
}

/* Moves past ``size`` bytes, if the buffer holds them. */
static int take(Buf *b, int64_t size) {
    if (size < 0 || size > (int64_t)(b->end - b->p)) {
        PyErr_Format(PyExc_ValueError, "a value of %lld bytes runs past the end of the data",
                     (long long)size);
        return -1;
    }
    b->p += size;
    return 0;
}

/* Every item of an array, map or block takes at least one byte: a count beyond the bytes
 * left is damage, and would otherwise loop for as long as the count says. */
static int check_count(Buf *b, int64_t count) {
    if (count > (int64_t)(b->end - b->p)) {
        return fail("a block holds more items than the data has bytes");
    }
    return 0;
}

static long op_of(PyObject *plan) {
    return PyLong_AsLong(PyTuple_GET_ITEM(plan, 0));
}

static Py_ssize_t arg_size(PyObject *plan) {
    return PyLong_AsSsize_t(PyTuple_GET_ITEM(plan, 1));
}

/* The next block count of an array or map; a negative count is followed by a byte size. */
static int block_count(Buf *b, int64_t *count, int64_t *size) {
    if (read_long(b, count) < 0) {
        return -1;
    }
    *size = -1;
    if (*count < 0) {
        if (*count == INT64_MIN) {
            return fail("a block count out of range");
        }
        *count = -*count;
        if (read_long(b, size) < 0) {
            return -1;
        }
        if (*size < 0) {
            return fail("a negative block size");
        }
    }
    return 0;
}

static PyObject *decode(PyObject *plan, Buf *b, int depth);
static int skip(PyObject *plan, Buf *b, int depth);

static int union_branch(PyObject *plan, Buf *b, PyObject **branch) {
    int64_t index;
    if (read_long(b, &index) < 0) {
        return -1;
    }
    PyObject *branches = PyTuple_GET_ITEM(plan, 1);
    if (index < 0 || index >= PyTuple_GET_SIZE(branches)) {
        PyErr_Format(PyExc_ValueError, "union branch %lld does not exist", (long long)index);
        return -1;
    }
    *branch = PyTuple_GET_ITEM(branches, (Py_ssize_t)index);
    return 0;
}

static PyObject *decode_record(PyObject *plan, Buf *b, int depth) {
    PyObject *fields = PyTuple_GET_ITEM(plan, 1);
    PyObject *record = PyDict_New();
    if (record == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(fields);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *field = PyTuple_GET_ITEM(fields, i);
        PyObject *key = PyTuple_GET_ITEM(field, 0);
        PyObject *field_plan = PyTuple_GET_ITEM(field, 1);
        if (key == Py_None) {
            if (skip(field_plan, b, depth + 1) < 0) {
                goto error;
            }
            continue;
        }
        PyObject *value = decode(field_plan, b, depth + 1);
        if (value == NULL) {
            goto error;
        }
        int failed = PyDict_SetItem(record, key, value);
        Py_DECREF(value);
        if (failed < 0) {
            goto error;
        }
    }
    return record;
error:
    Py_DECREF(record);
    return NULL;
}

/* Arrays (a list), maps with string keys, and Iceberg's maps by field id (dicts). */
static PyObject *decode_blocks(PyObject *plan, long op, Buf *b, int depth) {
    PyObject *out = op == OP_ARRAY ? PyList_New(0) : PyDict_New();
    if (out == NULL) {
        return NULL;
    }
    PyObject *first = PyTuple_GET_ITEM(plan, 1);  /* the items, or the keys */
    PyObject *values = op == OP_PAIRS ? PyTuple_GET_ITEM(plan, 2) : NULL;
    if (op == OP_MAP) {
        values = first;
    }
    while (1) {
        int64_t count, size;
        if (block_count(b, &count, &size) < 0) {
            goto error;
        }
        if (count == 0) {
            return out;
        }
        if (check_count(b, count) < 0) {
            goto error;
        }
        for (int64_t i = 0; i < count; i++) {
            if (op == OP_ARRAY) {
                PyObject *item = decode(first, b, depth + 1);
                if (item == NULL) {
                    goto error;
                }
                int failed = PyList_Append(out, item);
                Py_DECREF(item);
                if (failed < 0) {
                    goto error;
                }
                continue;
            }
            PyObject *key;
            if (op == OP_MAP) {
                Py_ssize_t length;
                if (read_size(b, &length) < 0) {
                    goto error;
                }
                key = PyUnicode_DecodeUTF8((const char *)b->p, length, "strict");
                b->p += length;
            } else {
                key = decode(first, b, depth + 1);
            }
            if (key == NULL) {
                goto error;
            }
            PyObject *value = decode(values, b, depth + 1);
            if (value == NULL) {
                Py_DECREF(key);
                goto error;
            }
            int failed = PyDict_SetItem(out, key, value);
            Py_DECREF(key);
            Py_DECREF(value);
            if (failed < 0) {
                goto error;
            }
        }
    }
error:
    Py_DECREF(out);
    return NULL;
}

static PyObject *decode(PyObject *plan, Buf *b, int depth) {
    if (depth > MAX_DEPTH) {
        fail("the data nests deeper than floe reads");
        return NULL;
    }
    long op = op_of(plan);
    int64_t number;
    Py_ssize_t size;
    switch (op) {
    case OP_NULL:
        Py_RETURN_NONE;
    case OP_BOOLEAN:
        if (b->p >= b->end) {
            fail("the data ends inside a boolean");
            return NULL;
        }
        return PyBool_FromLong(*b->p++ == 1);
    case OP_LONG:
        if (read_long(b, &number) < 0) {
            return NULL;
        }
        return PyLong_FromLongLong(number);
    case OP_FLOAT:
        if (take(b, 4) < 0) {
            return NULL;
        }
        return PyFloat_FromDouble(PyFloat_Unpack4((const char *)b->p - 4, 1));
    case OP_DOUBLE:
        if (take(b, 8) < 0) {
            return NULL;
        }
        return PyFloat_FromDouble(PyFloat_Unpack8((const char *)b->p - 8, 1));
    case OP_BYTES:
    case OP_STRING:
        if (read_size(b, &size) < 0) {
            return NULL;
        }
        b->p += size;
        if (op == OP_STRING) {
            return PyUnicode_DecodeUTF8((const char *)b->p - size, size, "strict");
        }
        return PyBytes_FromStringAndSize((const char *)b->p - size, size);
    case OP_FIXED:
        size = arg_size(plan);
        if (take(b, (int64_t)size) < 0) {
            return NULL;
        }
        return PyBytes_FromStringAndSize((const char *)b->p - size, size);
    case OP_ENUM: {
        PyObject *symbols = PyTuple_GET_ITEM(plan, 1);
        if (read_long(b, &number) < 0) {
            return NULL;
        }
        if (number < 0 || number >= PyTuple_GET_SIZE(symbols)) {
            PyErr_Format(PyExc_ValueError, "enum symbol %lld does not exist", (long long)number);
            return NULL;
        }
        PyObject *symbol = PyTuple_GET_ITEM(symbols, (Py_ssize_t)number);
        Py_INCREF(symbol);
        return symbol;
    }
    case OP_UNION: {
        PyObject *branch;
        if (union_branch(plan, b, &branch) < 0) {
            return NULL;
        }
        return decode(branch, b, depth + 1);
    }
    case OP_RECORD:
        return decode_record(plan, b, depth);
    case OP_ARRAY:
    case OP_MAP:
    case OP_PAIRS:
        return decode_blocks(plan, op, b, depth);
    default:
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_ValueError, "plan opcode %ld cannot decode a value", op);
        }
        return NULL;
    }
}

static int skip(PyObject *plan, Buf *b, int depth) {
    if (depth > MAX_DEPTH) {
        return fail("the data nests deeper than floe reads");
    }
    long op = op_of(plan);
    int64_t number, count, size;
    switch (op) {
    case OP_SKIP_VARINTS: {
        Py_ssize_t n = arg_size(plan);
        for (Py_ssize_t i = 0; i < n; i++) {
            if (read_long(b, &number) < 0) {
                return -1;
            }
        }
        return 0;
    }
    case OP_SKIP_BYTES:
        if (read_long(b, &number) < 0) {
            return -1;
        }
        if (number < 0) {
            return fail("a negative byte length");
        }
        return take(b, number);
    case OP_SKIP_FIXED:
        return take(b, (int64_t)arg_size(plan));
    case OP_SKIP_UNION: {
        PyObject *branch;
        if (union_branch(plan, b, &branch) < 0) {
            return -1;
        }
        return skip(branch, b, depth + 1);
    }
    case OP_SKIP_RECORD: {
        PyObject *fields = PyTuple_GET_ITEM(plan, 1);
        Py_ssize_t n = PyTuple_GET_SIZE(fields);
        for (Py_ssize_t i = 0; i < n; i++) {
            if (skip(PyTuple_GET_ITEM(fields, i), b, depth + 1) < 0) {
                return -1;
            }
        }
        return 0;
    }
    case OP_SKIP_BLOCKS: {
        PyObject *item = PyTuple_GET_ITEM(plan, 1);
        while (1) {
            if (block_count(b, &count, &size) < 0) {
                return -1;
            }
            if (count == 0) {
                return 0;
            }
            if (size >= 0) { /* the block gives its size in bytes: jump over it */
                if (take(b, size) < 0) {
                    return -1;
                }
                continue;
            }
            if (check_count(b, count) < 0) {
                return -1;
            }
            for (int64_t i = 0; i < count; i++) {
                if (skip(item, b, depth + 1) < 0) {
                    return -1;
                }
            }
        }
    }
    default:
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_ValueError, "plan opcode %ld cannot skip a value", op);
        }
        return -1;
    }
}

#define MAX_PLAN_STEPS 100000

static int valid_arg_count(PyObject *plan, Py_ssize_t need) {
    if (PyTuple_GET_SIZE(plan) < need) {
        return fail("a plan step lacks its arguments");
    }
    return 0;
}

/* Whether ``plan`` is a plan the decoder can follow without further checks: every step a
 * tuple (opcode, arguments...) with the arguments its opcode needs. */
static int valid(PyObject *plan, int depth, Py_ssize_t *steps) {
    if (depth > MAX_DEPTH) {
        return fail("the plan nests deeper than floe reads");
    }
    if (++*steps > MAX_PLAN_STEPS) {
        return fail("the plan has too many steps");
    }
    if (!PyTuple_Check(plan) || PyTuple_GET_SIZE(plan) < 1 ||
        !PyLong_CheckExact(PyTuple_GET_ITEM(plan, 0))) {
        return fail("a plan step is not a tuple (opcode, arguments...)");
    }
    long op = op_of(plan);
    PyObject *arg;
    switch (op) {
    case OP_NULL: case OP_BOOLEAN: case OP_LONG: case OP_FLOAT: case OP_DOUBLE:
    case OP_BYTES: case OP_STRING: case OP_SKIP_BYTES:
        return 0;
    case OP_FIXED: case OP_SKIP_FIXED: case OP_SKIP_VARINTS:
        if (valid_arg_count(plan, 2) < 0) {
            return -1;
        }
        arg = PyTuple_GET_ITEM(plan, 1);
        if (!PyLong_CheckExact(arg) || PyLong_AsSsize_t(arg) < 0) {
            PyErr_Clear();
            return fail("a plan step's size is not a non-negative int");
        }
        return 0;
    case OP_ENUM:
        if (valid_arg_count(plan, 2) < 0) {
            return -1;
        }
        if (!PyTuple_Check(PyTuple_GET_ITEM(plan, 1))) {
            return fail("an enum step's symbols are not a tuple");
        }
        return 0;
    case OP_UNION: case OP_SKIP_UNION: case OP_SKIP_RECORD: case OP_RECORD:
        if (valid_arg_count(plan, 2) < 0) {
            return -1;
        }
        arg = PyTuple_GET_ITEM(plan, 1);
        if (!PyTuple_Check(arg)) {
            return fail("a plan step's parts are not a tuple");
        }
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(arg); i++) {
            PyObject *part = PyTuple_GET_ITEM(arg, i);
            if (op == OP_RECORD) {
                if (!PyTuple_Check(part) || PyTuple_GET_SIZE(part) != 2) {
                    return fail("a record field is not a tuple (key, plan)");
                }
                PyObject *key = PyTuple_GET_ITEM(part, 0);
                if (key != Py_None && PyObject_Hash(key) == -1) {
                    return -1;
                }
                part = PyTuple_GET_ITEM(part, 1);
            }
            if (valid(part, depth + 1, steps) < 0) {
                return -1;
            }
        }
        return 0;
    case OP_ARRAY: case OP_MAP: case OP_SKIP_BLOCKS:
        if (valid_arg_count(plan, 2) < 0) {
            return -1;
        }
        return valid(PyTuple_GET_ITEM(plan, 1), depth + 1, steps);
    case OP_PAIRS:
        if (valid_arg_count(plan, 3) < 0 || valid(PyTuple_GET_ITEM(plan, 1), depth + 1, steps) < 0) {
            return -1;
        }
        return valid(PyTuple_GET_ITEM(plan, 2), depth + 1, steps);
    default:
        PyErr_Format(PyExc_ValueError, "plan opcode %ld does not exist", op);
        return -1;
    }
}

/* read_blocks(data, start, plan, decompress) -> list of the records of every block.
 *
 * ``start`` is where the header's sync marker begins; ``decompress`` is None for the null
 * codec, else a callable taking a block's bytes and returning them decompressed. */
static PyObject *read_blocks(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer data;
    Py_ssize_t start;
    PyObject *plan, *decompress;
    if (!PyArg_ParseTuple(args, "y*nO!O:read_blocks", &data, &start, &PyTuple_Type, &plan,
                          &decompress)) {
        return NULL;
    }
    PyObject *records = NULL;
    Py_ssize_t steps = 0;
    if (valid(plan, 0, &steps) < 0) {
        goto done;
    }
    const unsigned char *base = data.buf;
    Buf file = {base, base + data.len};
    if (start < 0 || start > data.len || data.len - start < SYNC_SIZE) {
        fail("the file ends inside its header");
        goto done;
    }
    const unsigned char *sync = base + start;
    file.p = sync + SYNC_SIZE;
    records = PyList_New(0);
    if (records == NULL) {
        goto done;
    }
    while (file.p < file.end) {
        int64_t count, size;
        if (read_long(&file, &count) < 0 || read_long(&file, &size) < 0) {
            goto fail;
        }
        if (count < 0 || size < 0 || size > file.end - file.p - SYNC_SIZE) {
            PyErr_Format(PyExc_ValueError, "a block of %lld bytes runs past the end of the data",
                         (long long)size);
            goto fail;
        }
        const unsigned char *raw = file.p;
        file.p += size;
        if (memcmp(file.p, sync, SYNC_SIZE) != 0) {
            fail("a block does not end with the file's sync marker");
            goto fail;
        }
        file.p += SYNC_SIZE;
        PyObject *owner = NULL;
        Buf block = {raw, raw + size};
        if (decompress != Py_None) {
            PyObject *compressed = PyBytes_FromStringAndSize((const char *)raw, (Py_ssize_t)size);
            if (compressed == NULL) {
                goto fail;
            }
            owner = PyObject_CallOneArg(decompress, compressed);
            Py_DECREF(compressed);
            if (owner == NULL) {
                goto fail; /* the codec's own error; floe reports it as undecompressable */
            }
            if (!PyBytes_Check(owner)) {
                Py_DECREF(owner);
                PyErr_SetString(PyExc_TypeError, "decompress must return bytes");
                goto fail;
            }
            block.p = (const unsigned char *)PyBytes_AS_STRING(owner);
            block.end = block.p + PyBytes_GET_SIZE(owner);
        }
        if (check_count(&block, count) < 0) {
            Py_XDECREF(owner);
            goto fail;
        }
        for (int64_t i = 0; i < count; i++) {
            PyObject *record = decode(plan, &block, 0);
            if (record == NULL) {
                Py_XDECREF(owner);
                goto fail;
            }
            int failed = PyList_Append(records, record);
            Py_DECREF(record);
            if (failed < 0) {
                Py_XDECREF(owner);
                goto fail;
            }
        }
        int rest = block.p != block.end;
        Py_XDECREF(owner);
        if (rest) {
            fail("a block's records do not end where the block ends");
            goto fail;
        }
    }
    goto done;
fail:
    Py_CLEAR(records);
done:
    PyBuffer_Release(&data);
    return records;
}

#ifndef _WIN32
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* read_file(path) -> the whole file: one open, one fstat, reads until it ends, one close,
 * without holding the GIL during the system calls. OSError names the path. */
static PyObject *read_file(PyObject *module, PyObject *arg) {
    (void)module;
    PyObject *encoded = NULL;
    if (!PyUnicode_FSConverter(arg, &encoded)) {
        return NULL;
    }
    const char *path = PyBytes_AS_STRING(encoded);
    int fd, saved = 0;
    struct stat info;
    Py_BEGIN_ALLOW_THREADS
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd >= 0 && fstat(fd, &info) < 0) {
        saved = errno;
        close(fd);
        fd = -1;
        errno = saved;
    }
    Py_END_ALLOW_THREADS
    if (fd < 0) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, arg);
        Py_DECREF(encoded);
        return NULL;
    }
    Py_ssize_t capacity = info.st_size > 0 ? (Py_ssize_t)info.st_size + 1 : 65536;
    PyObject *data = PyBytes_FromStringAndSize(NULL, capacity);
    Py_ssize_t length = 0;
    while (data != NULL) {
        if (length == capacity) { /* the file grew since fstat: make room */
            capacity *= 2;
            if (_PyBytes_Resize(&data, capacity) < 0) {
                break;
            }
        }
        ssize_t got;
        char *into = PyBytes_AS_STRING(data) + length;
        Py_BEGIN_ALLOW_THREADS
        do {
            got = read(fd, into, (size_t)(capacity - length));
        } while (got < 0 && errno == EINTR);
        saved = errno;
        Py_END_ALLOW_THREADS
        if (got < 0) {
            errno = saved;
            PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, arg);
            Py_CLEAR(data);
            break;
        }
        if (got == 0) {
            _PyBytes_Resize(&data, length); /* sets data to NULL on failure */
            break;
        }
        length += got;
    }
    close(fd);
    Py_DECREF(encoded);
    return data;
}
#endif

static PyMethodDef methods[] = {
    {"read_blocks", read_blocks, METH_VARARGS,
     "read_blocks(data, start, plan, decompress) -> the records of every block"},
#ifndef _WIN32
    {"read_file", read_file, METH_O, "read_file(path) -> the whole file, read with system calls"},
#endif
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "floe_speedups._avro",
    "Avro container blocks decoded by a plan (floe's projecting manifest reader).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__avro(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "PLAN_VERSION", 1) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
