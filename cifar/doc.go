// Package cifar reads the CIFAR-100 dataset in its two official
// distributions, downloads and caches them, and provides the pieces the
// stage step needs to turn records into PNGs and .lst manifests.
//
// # Sources
//
// Open accepts the official URL (PythonURL by default, or BinaryURL), any
// other http(s) URL, a local archive (.tar.gz or plain .tar), or a local
// folder of extracted files. URLs are downloaded into the cache
// (os.UserCacheDir()/scones), verified against the published size and MD5
// for the official URLs (KnownChecksum) or against a caller-given Checksum,
// and resumed with HTTP Range requests when a previous download was
// interrupted. A file that fails verification is deleted and reported with
// ErrChecksum; it is never reused.
//
// The format is detected from the archive's member names: cifar-100-python/
// {train,test,meta} or cifar-100-binary/{train.bin,test.bin,
// fine_label_names.txt,coarse_label_names.txt}. CIFAR-10 archives are
// recognised and refused by name.
//
// # Streaming
//
// Records streams gzip → tar → member → record and hands each record to a
// callback; the archive and the splits are never held in memory. Open reads
// the tar once to find the members and the label names (the python
// archive's meta is its last member); Records reads it again, once if train
// comes before test in the archive (as in the official python archive) and
// twice otherwise. Each pass reads to the end of the gzip stream so its CRC
// is checked.
//
// # Why a hand-written unpickler
//
// The python version's batches are Python 2 pickles (protocol 2) of dicts
// whose data entry is a numpy uint8 array of shape (N, 3072), pickled as a
// call to numpy.core.multiarray._reconstruct followed by BUILD with the raw
// bytes as one BINSTRING: 153,600,000 bytes for the training split. A
// general unpickler such as github.com/nlpodyssey/gopickle (which does read
// these files, given a small numpy shim; the tests use it to cross-check
// the fixture generator) must materialise that string, then the caller
// converts it to []byte: two copies, and a peak of over 300 MB for the
// training split alone. Unpickling also means running whatever callables
// the pickle names, so a general unpickler needs a FindClass that refuses
// everything but numpy's.
//
// This package therefore decodes pickles itself, with a decoder restricted
// to the opcodes these files use (the Python 2 protocol-2 set, plus the
// protocol 3/4 equivalents Python 3 writes if the files are re-pickled) and
// to exactly three globals: _reconstruct (numpy.core or numpy._core),
// numpy.ndarray and numpy.dtype. Any other global is an error naming it;
// nothing is ever imported, called or executed, and REDUCE and BUILD are
// implemented only for those numpy types. The decoder recognises the data
// array's raw-bytes string by its place in the stack (a BUILD state under
// the key "data") and, since CIFAR's dicts hold filenames and labels before
// data, streams the rows to the callback straight from the gzip stream
// while reading that string, keeping only the labels and names (about 3 MB
// for the training split). If a pickle orders its keys otherwise, the data
// string is spooled to a temporary file, never to memory.
//
// Measured with BenchmarkFull (archive_bench_test.go) on a generated
// full-size python archive (60,000 records, 173 MB), on a shared 2-core
// machine: Open plus Records over all records peaked at 29 MB resident and
// 18 MB of Go heap, in 3.2 s, against 1.7 s for `gzip -dc` of the same file
// (Open's scan is a second gzip pass, since meta is the last member).
// gopickle with a numpy shim, on the training pickle alone, peaked at
// 487 MB resident.
//
// Because rows are handed on while the pickle is still being read, an error
// can come after some records were delivered (a truncated archive, a
// malformed tail). Records returns that error; the caller must treat the
// whole run as failed, never as a partial success.
//
// # Records and file names
//
// A Record carries the split, its row (index in the split, the .lst row),
// the fine and coarse labels, the file name and the pixels (R, G, B planes
// of 1,024 bytes each, row-major) by value. The python version has CIFAR's
// own file names. The binary version has none, so records are named
// "<fine label name>_<split>_<row>.png" (e.g. "bicycle_train_42.png"): the
// name of the record's fine label in the archive's fine_label_names.txt,
// which keeps names readable and unique within a split.
//
// # Labels and output
//
// ResolveLabels maps specs such as "bicycle,motorcycle" or "8,48" to fine
// labels; class i is the i-th label. EncodePNG writes a deterministic 32x32
// RGB PNG; WriteManifest writes row<TAB>class<TAB>filename lines.
package cifar
