package cifar

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Meta holds the label names found in an archive: meta (python version) or
// fine_label_names.txt and coarse_label_names.txt (binary version).
type Meta struct {
	FineLabelNames   []string // 100 names; index = fine label
	CoarseLabelNames []string // 20 names; index = coarse label
}

// FineName returns the name of fine label i, or "label<i>" when the meta has
// no such entry.
func (m Meta) FineName(i int) string {
	if i >= 0 && i < len(m.FineLabelNames) {
		return m.FineLabelNames[i]
	}
	return "label" + strconv.Itoa(i)
}

// Default labels of the Scones Unlimited workflow: fine labels 8 (bicycle)
// and 48 (motorcycle), as classes 0 and 1.
const (
	LabelBicycle    = 8
	LabelMotorcycle = 48
	// CoarseVehicles1 is the coarse label shared by bicycle and motorcycle.
	CoarseVehicles1 = 18
)

// DefaultLabels returns the default label selection, bicycle then motorcycle.
func DefaultLabels() []string { return []string{"bicycle", "motorcycle"} }

// coarseGroups is the CIFAR-100 superclass table (coarse label names in
// label order, each with its five fine label names). It is a function, not a
// package variable, so callers can never mutate shared state.
func coarseGroups() [20]struct {
	name string
	fine [5]string
} {
	return [20]struct {
		name string
		fine [5]string
	}{
		{"aquatic_mammals", [5]string{"beaver", "dolphin", "otter", "seal", "whale"}},
		{"fish", [5]string{"aquarium_fish", "flatfish", "ray", "shark", "trout"}},
		{"flowers", [5]string{"orchid", "poppy", "rose", "sunflower", "tulip"}},
		{"food_containers", [5]string{"bottle", "bowl", "can", "cup", "plate"}},
		{"fruit_and_vegetables", [5]string{"apple", "mushroom", "orange", "pear", "sweet_pepper"}},
		{"household_electrical_devices", [5]string{"clock", "keyboard", "lamp", "telephone", "television"}},
		{"household_furniture", [5]string{"bed", "chair", "couch", "table", "wardrobe"}},
		{"insects", [5]string{"bee", "beetle", "butterfly", "caterpillar", "cockroach"}},
		{"large_carnivores", [5]string{"bear", "leopard", "lion", "tiger", "wolf"}},
		{"large_man-made_outdoor_things", [5]string{"bridge", "castle", "house", "road", "skyscraper"}},
		{"large_natural_outdoor_scenes", [5]string{"cloud", "forest", "mountain", "plain", "sea"}},
		{"large_omnivores_and_herbivores", [5]string{"camel", "cattle", "chimpanzee", "elephant", "kangaroo"}},
		{"medium_mammals", [5]string{"fox", "porcupine", "possum", "raccoon", "skunk"}},
		{"non-insect_invertebrates", [5]string{"crab", "lobster", "snail", "spider", "worm"}},
		{"people", [5]string{"baby", "boy", "girl", "man", "woman"}},
		{"reptiles", [5]string{"crocodile", "dinosaur", "lizard", "snake", "turtle"}},
		{"small_mammals", [5]string{"hamster", "mouse", "rabbit", "shrew", "squirrel"}},
		{"trees", [5]string{"maple_tree", "oak_tree", "palm_tree", "pine_tree", "willow_tree"}},
		{"vehicles_1", [5]string{"bicycle", "bus", "motorcycle", "pickup_truck", "train"}},
		{"vehicles_2", [5]string{"lawn_mower", "rocket", "streetcar", "tank", "tractor"}},
	}
}

// StandardMeta returns the label names of the published CIFAR-100 dataset:
// 100 fine labels in alphabetical order (as in the dataset's meta file) and
// 20 coarse labels. Each call returns fresh slices.
func StandardMeta() Meta {
	var m Meta
	for _, g := range coarseGroups() {
		m.CoarseLabelNames = append(m.CoarseLabelNames, g.name)
		m.FineLabelNames = append(m.FineLabelNames, g.fine[:]...)
	}
	sort.Strings(m.FineLabelNames)
	return m
}

// StandardCoarseOf returns the coarse label of each fine label of the
// published dataset (index = fine label).
func StandardCoarseOf() []int {
	m := StandardMeta()
	idx := make(map[string]int, len(m.FineLabelNames))
	for i, n := range m.FineLabelNames {
		idx[n] = i
	}
	out := make([]int, len(m.FineLabelNames))
	for c, g := range coarseGroups() {
		for _, f := range g.fine {
			out[idx[f]] = c
		}
	}
	return out
}

// ResolveLabels turns label specs into fine label indices, in the order
// given; class i of the output dataset is the i-th label. A spec is a fine
// label index ("8") or a fine label name from the archive's meta
// ("bicycle"); an element may hold several comma-separated specs
// ("bicycle,motorcycle"). Names match case-insensitively, with spaces and
// hyphens equivalent to underscores ("pickup truck"). Unknown names are an
// error that names them and lists close matches; duplicates and indices out
// of range are errors too.
func ResolveLabels(meta Meta, specs []string) ([]int, error) {
	var out []int
	seen := map[int]string{}
	for _, s := range specs {
		for _, part := range strings.Split(s, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			i, err := resolveOne(meta, part)
			if err != nil {
				return nil, err
			}
			if prev, dup := seen[i]; dup {
				return nil, fmt.Errorf("label %q selected twice (already given as %q)", part, prev)
			}
			seen[i] = part
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no labels given")
	}
	return out, nil
}

func normLabel(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(s)
}

func resolveOne(meta Meta, spec string) (int, error) {
	n := len(meta.FineLabelNames)
	if i, err := strconv.Atoi(spec); err == nil {
		if i < 0 || (n > 0 && i >= n) || i > 255 {
			return 0, fmt.Errorf("label index %d out of range [0, %d)", i, max(n, 1))
		}
		return i, nil
	}
	want := normLabel(spec)
	for i, name := range meta.FineLabelNames {
		if normLabel(name) == want {
			return i, nil
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("unknown label %q: the archive has no label names; give label indices instead", spec)
	}
	close := closeMatches(want, meta.FineLabelNames, 5)
	if len(close) == 0 {
		return 0, fmt.Errorf("unknown label %q (no close match among the %d fine label names)", spec, n)
	}
	return 0, fmt.Errorf("unknown label %q; did you mean %s?", spec, quoteJoin(close))
}

func quoteJoin(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// closeMatches returns up to limit names near want: by edit distance
// (at most a third of the length, minimum 2), or containing one another, or
// sharing a prefix of 4 or more characters; best first.
func closeMatches(want string, names []string, limit int) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	maxD := max(2, len(want)/3)
	for _, name := range names {
		nn := normLabel(name)
		d := levenshtein(want, nn)
		switch {
		case d <= maxD:
		case len(want) >= 3 && (strings.Contains(nn, want) || strings.Contains(want, nn)):
			d = maxD + 1
		case commonPrefix(want, nn) >= 4:
			d = maxD + 2
		default:
			continue
		}
		cs = append(cs, cand{name, d})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i := 0; i < len(cs) && i < limit; i++ {
		out = append(out, cs[i].name)
	}
	return out
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// LabelSet maps selected fine labels to output classes (0.. in the order
// the labels were given).
type LabelSet struct {
	class map[int]int
	fine  []int
}

// NewLabelSet builds a LabelSet from fine label indices, e.g. the result of
// ResolveLabels.
func NewLabelSet(fine []int) LabelSet {
	s := LabelSet{class: make(map[int]int, len(fine)), fine: append([]int(nil), fine...)}
	for i, f := range fine {
		s.class[f] = i
	}
	return s
}

// Class returns the output class of a fine label and whether it is selected.
func (s LabelSet) Class(fine int) (int, bool) {
	c, ok := s.class[fine]
	return c, ok
}

// Fine returns the selected fine labels in class order.
func (s LabelSet) Fine() []int { return append([]int(nil), s.fine...) }
