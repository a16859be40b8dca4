package s3

import (
	"crypto/md5"
	"testing"
)

// BenchmarkDigest3KB is what each digest S3 may take of a 3 KB body costs
// on this machine: MD5 for every ETag, the algorithm the client names, and
// SHA256 also for a hex x-amz-content-sha256 (see checkPayloadSHA).
func BenchmarkDigest3KB(b *testing.B) {
	data := make([]byte, 3072)
	b.Run("MD5", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			md5.Sum(data)
		}
	})
	h := newHashes()
	var dst [32]byte
	for _, algo := range checksumAlgorithmList {
		b.Run(algo, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				h.sum(dst[:0], algo, data)
			}
		})
	}
}
