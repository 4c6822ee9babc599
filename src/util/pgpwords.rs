//! The PGP word list (Patrick Juola and Philip Zimmermann, public domain), used to read hashes
//! aloud.
//!
//! During the ceremony, participants compare key fingerprints and metadata hashes by reading
//! them out loud. Hex digits are easy to mishear, so each byte is spoken as a word instead. Two
//! lists of 256 words are used: bytes at even positions (0, 2, 4, …) use the two-syllable
//! [`EVEN`] list and bytes at odd positions use the three-syllable [`ODD`] list. Because the
//! lists alternate and never share a word, a swapped pair, a repeated word or a dropped word
//! breaks the even/odd rhythm and is noticed by whoever is listening.

/// Two-syllable words for bytes at even positions; the index is the byte value.
#[rustfmt::skip]
pub const EVEN: [&str; 256] = [
    "aardvark", "absurd", "accrue", "acme", // 0x00
    "adrift", "adult", "afflict", "ahead", // 0x04
    "aimless", "Algol", "allow", "alone", // 0x08
    "ammo", "ancient", "apple", "artist", // 0x0C
    "assume", "Athens", "atlas", "Aztec", // 0x10
    "baboon", "backfield", "backward", "banjo", // 0x14
    "beaming", "bedlamp", "beehive", "beeswax", // 0x18
    "befriend", "Belfast", "berserk", "billiard", // 0x1C
    "bison", "blackjack", "blockade", "blowtorch", // 0x20
    "bluebird", "bombast", "bookshelf", "brackish", // 0x24
    "breadline", "breakup", "brickyard", "briefcase", // 0x28
    "Burbank", "button", "buzzard", "cement", // 0x2C
    "chairlift", "chatter", "checkup", "chisel", // 0x30
    "choking", "chopper", "Christmas", "clamshell", // 0x34
    "classic", "classroom", "cleanup", "clockwork", // 0x38
    "cobra", "commence", "concert", "cowbell", // 0x3C
    "crackdown", "cranky", "crowfoot", "crucial", // 0x40
    "crumpled", "crusade", "cubic", "dashboard", // 0x44
    "deadbolt", "deckhand", "dogsled", "dragnet", // 0x48
    "drainage", "dreadful", "drifter", "dropper", // 0x4C
    "drumbeat", "drunken", "Dupont", "dwelling", // 0x50
    "eating", "edict", "egghead", "eightball", // 0x54
    "endorse", "endow", "enlist", "erase", // 0x58
    "escape", "exceed", "eyeglass", "eyetooth", // 0x5C
    "facial", "fallout", "flagpole", "flatfoot", // 0x60
    "flytrap", "fracture", "framework", "freedom", // 0x64
    "frighten", "gazelle", "Geiger", "glitter", // 0x68
    "glucose", "goggles", "goldfish", "gremlin", // 0x6C
    "guidance", "hamlet", "highchair", "hockey", // 0x70
    "indoors", "indulge", "inverse", "involve", // 0x74
    "island", "jawbone", "keyboard", "kickoff", // 0x78
    "kiwi", "klaxon", "locale", "lockup", // 0x7C
    "merit", "minnow", "miser", "Mohawk", // 0x80
    "mural", "music", "necklace", "Neptune", // 0x84
    "newborn", "nightbird", "Oakland", "obtuse", // 0x88
    "offload", "optic", "orca", "payday", // 0x8C
    "peachy", "pheasant", "physique", "playhouse", // 0x90
    "Pluto", "preclude", "prefer", "preshrunk", // 0x94
    "printer", "prowler", "pupil", "puppy", // 0x98
    "python", "quadrant", "quiver", "quota", // 0x9C
    "ragtime", "ratchet", "rebirth", "reform", // 0xA0
    "regain", "reindeer", "rematch", "repay", // 0xA4
    "retouch", "revenge", "reward", "rhythm", // 0xA8
    "ribcage", "ringbolt", "robust", "rocker", // 0xAC
    "ruffled", "sailboat", "sawdust", "scallion", // 0xB0
    "scenic", "scorecard", "Scotland", "seabird", // 0xB4
    "select", "sentence", "shadow", "shamrock", // 0xB8
    "showgirl", "skullcap", "skydive", "slingshot", // 0xBC
    "slowdown", "snapline", "snapshot", "snowcap", // 0xC0
    "snowslide", "solo", "southward", "soybean", // 0xC4
    "spaniel", "spearhead", "spellbind", "spheroid", // 0xC8
    "spigot", "spindle", "spyglass", "stagehand", // 0xCC
    "stagnate", "stairway", "standard", "stapler", // 0xD0
    "steamship", "sterling", "stockman", "stopwatch", // 0xD4
    "stormy", "sugar", "surmount", "suspense", // 0xD8
    "sweatband", "swelter", "tactics", "talon", // 0xDC
    "tapeworm", "tempest", "tiger", "tissue", // 0xE0
    "tonic", "topmost", "tracker", "transit", // 0xE4
    "trauma", "treadmill", "Trojan", "trouble", // 0xE8
    "tumor", "tunnel", "tycoon", "uncut", // 0xEC
    "unearth", "unwind", "uproot", "upset", // 0xF0
    "upshot", "vapor", "village", "virus", // 0xF4
    "Vulcan", "waffle", "wallet", "watchword", // 0xF8
    "wayside", "willow", "woodlark", "Zulu", // 0xFC
];

/// Three-syllable words for bytes at odd positions; the index is the byte value.
#[rustfmt::skip]
pub const ODD: [&str; 256] = [
    "adroitness", "adviser", "aftermath", "aggregate", // 0x00
    "alkali", "almighty", "amulet", "amusement", // 0x04
    "antenna", "applicant", "Apollo", "armistice", // 0x08
    "article", "asteroid", "Atlantic", "atmosphere", // 0x0C
    "autopsy", "Babylon", "backwater", "barbecue", // 0x10
    "belowground", "bifocals", "bodyguard", "bookseller", // 0x14
    "borderline", "bottomless", "Bradbury", "bravado", // 0x18
    "Brazilian", "breakaway", "Burlington", "businessman", // 0x1C
    "butterfat", "Camelot", "candidate", "cannonball", // 0x20
    "Capricorn", "caravan", "caretaker", "celebrate", // 0x24
    "cellulose", "certify", "chambermaid", "Cherokee", // 0x28
    "Chicago", "clergyman", "coherence", "combustion", // 0x2C
    "commando", "company", "component", "concurrent", // 0x30
    "confidence", "conformist", "congregate", "consensus", // 0x34
    "consulting", "corporate", "corrosion", "councilman", // 0x38
    "crossover", "crucifix", "cumbersome", "customer", // 0x3C
    "Dakota", "decadence", "December", "decimal", // 0x40
    "designing", "detector", "detergent", "determine", // 0x44
    "dictator", "dinosaur", "direction", "disable", // 0x48
    "disbelief", "disruptive", "distortion", "document", // 0x4C
    "embezzle", "enchanting", "enrollment", "enterprise", // 0x50
    "equation", "equipment", "escapade", "Eskimo", // 0x54
    "everyday", "examine", "existence", "exodus", // 0x58
    "fascinate", "filament", "finicky", "forever", // 0x5C
    "fortitude", "frequency", "gadgetry", "Galveston", // 0x60
    "getaway", "glossary", "gossamer", "graduate", // 0x64
    "gravity", "guitarist", "hamburger", "Hamilton", // 0x68
    "handiwork", "hazardous", "headwaters", "hemisphere", // 0x6C
    "hesitate", "hideaway", "holiness", "hurricane", // 0x70
    "hydraulic", "impartial", "impetus", "inception", // 0x74
    "indigo", "inertia", "infancy", "inferno", // 0x78
    "informant", "insincere", "insurgent", "integrate", // 0x7C
    "intention", "inventive", "Istanbul", "Jamaica", // 0x80
    "Jupiter", "leprosy", "letterhead", "liberty", // 0x84
    "maritime", "matchmaker", "maverick", "Medusa", // 0x88
    "megaton", "microscope", "microwave", "midsummer", // 0x8C
    "millionaire", "miracle", "misnomer", "molasses", // 0x90
    "molecule", "Montana", "monument", "mosquito", // 0x94
    "narrative", "nebula", "newsletter", "Norwegian", // 0x98
    "October", "Ohio", "onlooker", "opulent", // 0x9C
    "Orlando", "outfielder", "Pacific", "pandemic", // 0xA0
    "Pandora", "paperweight", "paragon", "paragraph", // 0xA4
    "paramount", "passenger", "pedigree", "Pegasus", // 0xA8
    "penetrate", "perceptive", "performance", "pharmacy", // 0xAC
    "phonetic", "photograph", "pioneer", "pocketful", // 0xB0
    "politeness", "positive", "potato", "processor", // 0xB4
    "provincial", "proximate", "puberty", "publisher", // 0xB8
    "pyramid", "quantity", "racketeer", "rebellion", // 0xBC
    "recipe", "recover", "repellent", "replica", // 0xC0
    "reproduce", "resistor", "responsive", "retraction", // 0xC4
    "retrieval", "retrospect", "revenue", "revival", // 0xC8
    "revolver", "sandalwood", "sardonic", "Saturday", // 0xCC
    "savagery", "scavenger", "sensation", "sociable", // 0xD0
    "souvenir", "specialist", "speculate", "stethoscope", // 0xD4
    "stupendous", "supportive", "surrender", "suspicious", // 0xD8
    "sympathy", "tambourine", "telephone", "therapist", // 0xDC
    "tobacco", "tolerance", "tomorrow", "torpedo", // 0xE0
    "tradition", "travesty", "trombonist", "truncated", // 0xE4
    "typewriter", "ultimate", "undaunted", "underfoot", // 0xE8
    "unicorn", "unify", "universe", "unravel", // 0xEC
    "upcoming", "vacancy", "vagabond", "vertigo", // 0xF0
    "Virginia", "visitor", "vocalist", "voyager", // 0xF4
    "warranty", "Waterloo", "whimsical", "Wichita", // 0xF8
    "Wilmington", "Wyoming", "yesteryear", "Yucatan", // 0xFC
];

/// The word for each byte: byte `i` uses [`EVEN`] if `i` is even and [`ODD`] if `i` is odd.
pub fn words(bytes: &[u8]) -> Vec<&'static str> {
    bytes
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            let list = if i % 2 == 0 { &EVEN } else { &ODD };
            list[usize::from(b)]
        })
        .collect()
}

/// The words for `bytes` (see [`words`]) joined by single spaces, ready to be read aloud.
pub fn phrase(bytes: &[u8]) -> String {
    words(bytes).join(" ")
}

/// The PGP words of a lowercase hex digest (empty if it is not hex).
pub fn phrase_of_hex(hex: &str) -> String {
    crate::tuf::keys::unhex(hex, true).map(|b| phrase(&b)).unwrap_or_default()
}

/// The PGP words of a lowercase hex digest in short groups for reading aloud and for a
/// live stream: lines of eight words in two groups of four, each line starting with
/// `indent` (a sha256 gives four lines, at most 100 columns each). Empty if not hex.
pub fn grouped_of_hex(hex: &str, indent: &str) -> String {
    let Some(bytes) = crate::tuf::keys::unhex(hex, true) else { return String::new() };
    words(&bytes)
        .chunks(8)
        .map(|line| format!("{indent}{}", line.chunks(4).map(|g| g.join(" ")).collect::<Vec<_>>().join("   ")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn lists_have_256_distinct_words() {
        assert_eq!(EVEN.len(), 256);
        assert_eq!(ODD.len(), 256);
        let even: HashSet<String> = EVEN.iter().map(|w| w.to_lowercase()).collect();
        let odd: HashSet<String> = ODD.iter().map(|w| w.to_lowercase()).collect();
        assert_eq!(even.len(), 256, "duplicate word in EVEN");
        assert_eq!(odd.len(), 256, "duplicate word in ODD");
        let shared: Vec<&String> = even.intersection(&odd).collect();
        assert!(shared.is_empty(), "words in both lists: {shared:?}");
        let all: HashSet<&String> = even.union(&odd).collect();
        assert_eq!(all.len(), 512);
    }

    #[test]
    fn first_and_last_words() {
        assert_eq!(EVEN[0], "aardvark");
        assert_eq!(EVEN[255], "Zulu");
        assert_eq!(ODD[0], "adroitness");
        assert_eq!(ODD[255], "Yucatan");
    }

    #[test]
    fn words_alternate_between_lists() {
        assert_eq!(words(&[]), Vec::<&str>::new());
        assert_eq!(words(&[0x00, 0x00, 0xFF, 0xFF]), ["aardvark", "adroitness", "Zulu", "Yucatan"]);
        assert_eq!(phrase(&[]), "");
    }

    #[test]
    fn known_example() {
        let bytes = [0xE5, 0x82, 0x94, 0xF2, 0xE9, 0xA2, 0x27, 0x48, 0x6E, 0x8B, 0x06, 0x1B, 0x31, 0xCC, 0x52, 0x8F, 0xD7, 0xFA, 0x3F, 0x19];
        assert_eq!(
            phrase(&bytes),
            "topmost Istanbul Pluto vagabond treadmill Pacific brackish dictator goldfish Medusa \
             afflict bravado chatter revolver Dupont midsummer stopwatch whimsical cowbell \
             bottomless"
        );
    }
}
