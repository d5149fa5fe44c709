// Package suggest finds, for a word the user mistyped (a command, a
// provider, a flag), the word they most likely meant.
package suggest

import "strings"

// Closest returns the candidate nearest to word, case aside, when it is
// near enough to be a typo (a letter wrong, missing, extra, or two
// swapped, per four letters or so); "" otherwise.
func Closest(word string, candidates []string) string {
	w := strings.ToLower(word)
	best, bestDist := "", (len([]rune(w))+2)/4
	for _, c := range candidates {
		if d := distance(w, strings.ToLower(c)); d <= bestDist && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// distance is the optimal string alignment distance between a and b: the
// edits (insert, delete, replace, swap two neighbours) that turn one into
// the other.
func distance(a, b string) int {
	s, t := []rune(a), []rune(b)
	d := make([][]int, len(s)+1)
	for i := range d {
		d[i] = make([]int, len(t)+1)
		d[i][0] = i
	}
	for j := range t {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(s); i++ {
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(s)][len(t)]
}
