package flowstats

import (
	"math"
	"time"
)

// The median time in a state comes from a histogram with logarithmic
// buckets, so that its memory is bounded by the range of durations and not
// by the number of visits: bucket 0 holds durations under a microsecond
// (the stores' precision), and bucket i > 0 holds those from gamma^(i-1)
// to gamma^i microseconds. A quantile read from a bucket is the value that
// is closest, relatively, to both of its bounds, 2·lo·hi/(lo+hi): it is
// within (gamma-1)/(gamma+1) of every duration in the bucket. With gamma
// 1.02 that is 0.99%, up to maxDuration; longer durations all count as
// maxDuration.
const (
	gamma = 1.02
	// MedianError is the largest relative error of the medians of
	// StateStats, for durations up to a year.
	MedianError = (gamma - 1) / (gamma + 1)
	maxDuration = 365 * 24 * time.Hour
)

var (
	lnGamma    = math.Log(gamma)
	lastBucket = bucket(maxDuration)
)

// histogram counts durations in logarithmic buckets (see gamma).
type histogram struct {
	n      int64
	counts []int64 // by bucket, as long as the largest bucket used
}

// bucket returns the bucket of d.
func bucket(d time.Duration) int {
	us := d.Microseconds()
	if us < 1 {
		return 0
	}
	return int(math.Log(float64(us))/lnGamma) + 1
}

// add counts d; a negative d (clocks of two machines) counts as zero.
func (h *histogram) add(d time.Duration) {
	i := min(bucket(max(d, 0)), lastBucket)
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]int64, i+1-len(h.counts))...)
	}
	h.counts[i]++
	h.n++
}

// quantile returns the q-quantile (0 < q <= 1) of the durations counted:
// an estimate of the duration of rank ceil(q·n) in increasing order, within
// MedianError of it. It returns 0 when nothing was counted.
func (h *histogram) quantile(q float64) time.Duration {
	rank := max(int64(math.Ceil(q*float64(h.n))), 1)
	var seen int64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return estimate(i)
		}
	}
	return 0
}

// estimate is the value read from bucket i.
func estimate(i int) time.Duration {
	if i == 0 {
		return 0
	}
	lo, hi := math.Pow(gamma, float64(i-1)), math.Pow(gamma, float64(i))
	return time.Duration(2 * lo * hi / (lo + hi) * float64(time.Microsecond))
}
