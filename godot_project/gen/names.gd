class_name PSGenNames
extends RefCounted
## Pronounceable names from syllables, drawn from a [PSGenHashing.Rng]
## (port of shared_gen/names.py).

const ONSETS: PackedStringArray = [
	"", "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t",
	"v", "z", "th", "kr", "st", "tr", "vr", "sh", "ph", "qu", "x",
]
const VOWELS: PackedStringArray = ["a", "e", "i", "o", "u", "ae", "ai", "ou", "y", "io"]
const CODAS: PackedStringArray = ["", "", "", "n", "r", "s", "th", "x", "l", "m", "k", "nd"]
const ROMAN: PackedStringArray = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]


## A capitalised name of min..max syllables; each syllable is onset + vowel + coda.
## Draw order per name: syllable count, then per syllable onset, vowel, coda.
static func make_name(
	rng: PSGenHashing.Rng, min_syllables: int = 2, max_syllables: int = 3
) -> String:
	var n: int = min_syllables + rng.below(max_syllables - min_syllables + 1)
	var name := ""
	for _s in n:
		var onset: String = ONSETS[rng.below(ONSETS.size())]
		var vowel: String = VOWELS[rng.below(VOWELS.size())]
		var coda: String = CODAS[rng.below(CODAS.size())]
		name += onset + vowel + coda
	return name.substr(0, 1).to_upper() + name.substr(1)
