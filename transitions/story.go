package transitions

// StoryEdges returns the edges of t that carry sequence-diagram messages, in
// declared order: the outcomes that tell the spec's story. Two or more of
// them branch the story (an alt block, labelled by each edge's Branch); the
// other edges (retries, errors, expiry) belong to the state diagram only.
func (t *Transition) StoryEdges() []Edge {
	var out []Edge
	for _, e := range t.Edges {
		if len(e.Messages) > 0 {
			out = append(out, e)
		}
	}
	return out
}

// Story reports whether t tells part of the story: it declares messages of
// its own or on one of its edges.
func (t *Transition) Story() bool {
	return len(t.Messages) > 0 || len(t.StoryEdges()) > 0
}
