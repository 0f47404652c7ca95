package visualize

import (
	"fmt"

	"github.com/ratioflow/ratioflow/transitions"
)

// SequenceDiagram returns the Mermaid sequenceDiagram of flow f: the
// messages between the User, the Wallet (the embedding app) and Ratio along
// the paths a person walks. It draws the flow's Opening messages, then the
// story walked from the initial state, then the Closing messages.
//
// The walk takes, in each state, the transition whose own messages or whose
// edges' messages tell the story (cancel and expire never do), draws its
// messages, then those of its story edge, and goes on from that edge's
// destination; two or more story edges become an alt/else block labelled
// with their Branch, each branch walked to its end: a terminal state or a
// state already drawn. Automatic transitions are walked like any other.
// Error edges (429, wrong OTP, expiry) carry no messages: they are in the
// state diagram.
//
// It declares no participants: they appear in the order they first speak,
// as in the spec's diagram, which the link flow's diagram reproduces
// statement for statement.
func SequenceDiagram(f *transitions.Flow) string {
	var l lines
	l.add(0, "sequenceDiagram")
	for _, m := range f.Opening {
		l.add(1, message(m))
	}
	drawStory(&l, 1, story(f))
	for _, m := range f.Closing {
		l.add(1, message(m))
	}
	return l.String()
}

// drawStory writes the messages of the segments, at the given depth.
func drawStory(l *lines, depth int, path []segment) {
	for _, seg := range path {
		if seg.t != nil {
			for _, m := range seg.t.Messages {
				l.add(depth, message(m))
			}
		}
		if seg.e != nil {
			for _, m := range seg.e.Messages {
				l.add(depth, message(m))
			}
		}
		for i, alt := range seg.alts {
			keyword := "else"
			if i == 0 {
				keyword = "alt"
			}
			l.add(depth, keyword+" "+escape(alt.label))
			drawStory(l, depth+1, alt.path)
		}
		if len(seg.alts) > 0 {
			l.add(depth, "end")
		}
	}
}

// message is the statement of one message: "Wallet->>+Ratio: Start wallet auth".
func message(m transitions.Message) string {
	return fmt.Sprintf("%s%s%s%s: %s", m.From, m.Arrow, m.Act, m.To, escape(m.Text))
}
