//! Deterministic demo catalog for the local stack.
//!
//! [`generate`] builds a believable marketplace of small handmade and vintage
//! shops. Every shop gets its own "voice": a preferred word for *handmade*, a
//! favourite way of writing titles, its own separator and capitalisation, so
//! the same kind of item ("handcrafted leather billfold", "Full Grain Wallet |
//! Gift for Him", "1970s retro ceramic vase") is worded differently from shop
//! to shop. That variety is what makes the catalog useful for exercising
//! search, synonyms and stemming.
//!
//! The generator uses only `std` and a built-in SplitMix64 generator with
//! integer-only arithmetic, so the same seed yields byte-identical output on
//! every platform and Rust version.

use std::collections::HashSet;

/// Slugs of every product category the generator uses, in a fixed order.
///
/// Every slug matches `^[a-z0-9]+(-[a-z0-9]+)*$`.
pub const CATEGORIES: &[&str] = &[
    "jewelry",
    "bags-and-purses",
    "home-decor",
    "clothing",
    "art",
    "ceramics-and-pottery",
    "candles",
    "toys-and-games",
    "paper-goods",
    "woodworking",
    "accessories",
    "vintage-finds",
];

/// A generated shop. Each shop has exactly one owner, identified by
/// `owner_index` (equal to the shop's own `index`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedShop {
    /// Position of the shop in [`Catalog::shops`].
    pub index: usize,
    /// Display name, 1..=100 characters, unique (case-insensitively) within a catalog.
    pub name: String,
    /// One to three sentences about the shop, at most 5000 characters.
    pub description: String,
    /// Shipping charge for the first item, 0..=2000 cents.
    pub base_shipping_cents: i64,
    /// Shipping charge for each additional item, 0..=800 cents.
    pub per_extra_item_cents: i64,
    /// Sixteen pseudo-random bytes the caller turns into the shop's UUID.
    pub id_bytes: [u8; 16],
    /// Index of the owning user; one shop per owner, so equal to `index`.
    pub owner_index: usize,
}

/// A generated product listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedProduct {
    /// Position of the product in [`Catalog::products`].
    pub index: usize,
    /// Index of the owning shop in [`Catalog::shops`].
    pub shop_index: usize,
    /// Listing title, 1..=200 characters.
    pub title: String,
    /// One to four sentences, at most 5000 characters.
    pub description: String,
    /// Price in cents, 100..=250_000, at realistic price points.
    pub price_cents: i64,
    /// Units in stock; mostly 1, about 3% are sold out (0), at most 50.
    pub quantity: i64,
    /// One of [`CATEGORIES`].
    pub category: String,
    /// Zero to thirteen lowercase tags of 1..=20 characters (`a-z`, `0-9`, space, `-`).
    pub tags: Vec<String>,
    /// Whether the item is a vintage piece (about a quarter of all listings).
    pub is_vintage: bool,
    /// Zero to ten absolute `https` image URLs.
    pub images: Vec<String>,
    /// Sixteen pseudo-random bytes the caller turns into the product's UUID.
    pub id_bytes: [u8; 16],
    /// How many days ago the listing was created, 0..=365.
    pub age_days: u32,
}

/// The complete generated catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// All shops, ordered by `index`.
    pub shops: Vec<SeedShop>,
    /// All products, ordered by `index` (grouped by shop).
    pub products: Vec<SeedProduct>,
}

/// Generates a deterministic catalog of `shops` shops and `products` products.
///
/// The same `(shops, products, seed)` always produces an identical catalog.
/// Products are spread unevenly over the shops; when `products >= shops`
/// every shop receives at least one product. With `shops == 0` there is
/// nowhere to list anything, so the catalog is empty.
pub fn generate(shops: usize, products: usize, seed: u64) -> Catalog {
    let mut rng = SplitMix64::new(seed);
    let mut used_names: HashSet<String> = HashSet::with_capacity(shops);
    let mut plans = Vec::with_capacity(shops);
    let mut shop_rows = Vec::with_capacity(shops);

    for index in 0..shops {
        let plan = plan_shop(&mut rng);
        shop_rows.push(build_shop(&mut rng, index, &plan, &mut used_names));
        plans.push(plan);
    }

    let counts = allocate_products(&plans, products);
    calibrate_vintage(&mut plans, &counts);
    let mut product_rows = Vec::with_capacity(if shops == 0 { 0 } else { products });
    let mut next_image = 1_usize;
    for (shop_index, (plan, count)) in plans.iter().zip(counts).enumerate() {
        for _ in 0..count {
            let index = product_rows.len();
            product_rows.push(build_product(
                &mut rng,
                index,
                shop_index,
                plan,
                &mut next_image,
            ));
        }
    }

    Catalog {
        shops: shop_rows,
        products: product_rows,
    }
}

// ---------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------

/// SplitMix64 (Steele, Lea & Flood). Tiny, fast and fully portable.
#[derive(Debug, Clone)]
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform integer in `0..n` (Lemire's multiply-high; `n` must be > 0).
    fn below(&mut self, n: usize) -> usize {
        let wide = u128::from(self.next_u64()) * n as u128;
        (wide >> 64) as usize
    }

    /// Uniform integer in `lo..=hi` (`lo <= hi`).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = u128::from(hi.abs_diff(lo)) + 1;
        let offset = (u128::from(self.next_u64()) * span) >> 64;
        lo + offset as i64
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: usize) -> bool {
        self.below(1000) < per_mille
    }

    /// Uniformly chosen element; `items` must not be empty.
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Index chosen with probability proportional to `weight(item)`.
    fn weighted_index<T>(&mut self, items: &[T], weight: impl Fn(&T) -> usize) -> usize {
        let total: usize = items.iter().map(&weight).sum();
        if total == 0 {
            return 0;
        }
        let mut roll = self.below(total);
        for (i, item) in items.iter().enumerate() {
            let w = weight(item);
            if roll < w {
                return i;
            }
            roll -= w;
        }
        items.len().saturating_sub(1)
    }

    fn bytes16(&mut self) -> [u8; 16] {
        let mut out = [0_u8; 16];
        out[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        out[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        out
    }

    /// Fisher–Yates shuffle.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

// ---------------------------------------------------------------------------
// Vocabulary: synonym groups shared by every category
// ---------------------------------------------------------------------------

const HANDMADE: &[&str] = &[
    "handmade",
    "handcrafted",
    "artisan",
    "homemade",
    "hand-made",
];
const VINTAGE: &[&str] = &[
    "vintage",
    "antique",
    "retro",
    "old",
    "classic",
    "secondhand",
];
const WALLET_NOUNS: &[&str] = &["wallet", "billfold", "purse", "cardholder", "pocketbook"];
const NECKLACE_NOUNS: &[&str] = &["necklace", "pendant", "chain", "choker", "lariat"];
const EARRING_NOUNS: &[&str] = &["earrings", "studs", "drops", "hoops", "dangles"];
const RING_NOUNS: &[&str] = &["ring", "band", "signet", "wedding band"];
const LEATHER: &[&str] = &[
    "leather",
    "genuine leather",
    "real leather",
    "cowhide",
    "full grain",
];
const SILVER: &[&str] = &["silver", "sterling", "925", "sterling silver"];
const GOLD: &[&str] = &["gold", "14k", "18k", "gold filled", "gold plated"];

/// Synonym-group ids used to look up a shop's preferred word.
const G_HANDMADE: usize = 0;
const G_VINTAGE: usize = 1;
const G_LEATHER: usize = 2;
const G_SILVER: usize = 3;
const G_GOLD: usize = 4;
const G_NOUN_BASE: usize = 5;

const SEPARATORS: &[&str] = &[" - ", " | ", ", ", " – ", " ~ ", " / ", " - ", " | "];

const VINTAGE_STYLES: &[&str] = &[
    "mid-century",
    "mid-century modern",
    "Art Deco",
    "boho",
    "retro",
    "Victorian",
    "farmhouse",
    "mod",
    "space age",
    "cottage",
    "Hollywood Regency",
    "primitive",
];

/// A decade vintage pieces can come from.
struct EraDef {
    decade: i64,
    /// Ways sellers name the era in titles ("1970s", "mid-century").
    words: &'static [&'static str],
    /// Phrase used after "from" or "in" ("the 1970s").
    period: &'static str,
    /// Styles that plausibly go with the era.
    styles: &'static [&'static str],
    weight: usize,
}

const ERAS: &[EraDef] = &[
    EraDef {
        decade: 1880,
        words: &["Victorian", "1880s"],
        period: "the Victorian era",
        styles: &["Victorian", "ornate", "primitive", "farmhouse"],
        weight: 2,
    },
    EraDef {
        decade: 1890,
        words: &["Victorian", "1890s", "turn of the century"],
        period: "the 1890s",
        styles: &["Victorian", "ornate", "primitive", "farmhouse"],
        weight: 3,
    },
    EraDef {
        decade: 1900,
        words: &["Edwardian", "1900s"],
        period: "the Edwardian era",
        styles: &["Edwardian", "Arts and Crafts", "Art Nouveau", "farmhouse"],
        weight: 3,
    },
    EraDef {
        decade: 1910,
        words: &["1910s", "Edwardian"],
        period: "the 1910s",
        styles: &["Edwardian", "Arts and Crafts", "Art Nouveau", "primitive"],
        weight: 3,
    },
    EraDef {
        decade: 1920,
        words: &["1920s", "Art Deco", "20s"],
        period: "the 1920s",
        styles: &["Art Deco", "flapper", "cottage", "farmhouse"],
        weight: 5,
    },
    EraDef {
        decade: 1930,
        words: &["1930s", "Art Deco", "30s"],
        period: "the 1930s",
        styles: &["Art Deco", "Hollywood Regency", "cottage", "farmhouse"],
        weight: 5,
    },
    EraDef {
        decade: 1940,
        words: &["1940s", "40s", "wartime"],
        period: "the 1940s",
        styles: &["Hollywood Regency", "farmhouse", "cottage", "retro"],
        weight: 6,
    },
    EraDef {
        decade: 1950,
        words: &["1950s", "mid-century", "50s"],
        period: "the 1950s",
        styles: &["mid-century", "mid-century modern", "atomic", "retro"],
        weight: 12,
    },
    EraDef {
        decade: 1960,
        words: &["1960s", "mid-century", "60s", "1960s"],
        period: "the 1960s",
        styles: &["mid-century", "mid-century modern", "mod", "space age"],
        weight: 13,
    },
    EraDef {
        decade: 1970,
        words: &["1970s", "70s", "1970s", "seventies"],
        period: "the 1970s",
        styles: &["boho", "retro", "space age", "mid-century"],
        weight: 14,
    },
    EraDef {
        decade: 1980,
        words: &["1980s", "80s", "1980s"],
        period: "the 1980s",
        styles: &["Memphis", "postmodern", "retro", "country"],
        weight: 10,
    },
    EraDef {
        decade: 1990,
        words: &["1990s", "90s"],
        period: "the 1990s",
        styles: &["grunge", "minimalist", "retro", "Y2K"],
        weight: 6,
    },
];

const TOWNS: &[&str] = &[
    "Asheville, North Carolina",
    "Portland, Maine",
    "Bend, Oregon",
    "Taos, New Mexico",
    "Duluth, Minnesota",
    "Burlington, Vermont",
    "Marfa, Texas",
    "Savannah, Georgia",
    "Bozeman, Montana",
    "Hudson, New York",
    "Bisbee, Arizona",
    "Traverse City, Michigan",
    "Ojai, California",
    "Madison, Wisconsin",
    "Eureka Springs, Arkansas",
    "Bath, England",
    "Galway, Ireland",
    "Hobart, Tasmania",
    "Kingston, Ontario",
    "Nelson, New Zealand",
    "the Blue Ridge Mountains",
    "coastal Maine",
    "the Pacific Northwest",
    "the Scottish Highlands",
];

const FIRST_NAMES: &[&str] = &[
    "Hazel", "Mabel", "June", "Ada", "Iris", "Nell", "Otis", "Walt", "Ruth", "Clara", "Milo",
    "Theo", "Elsie", "Rosa", "Ivy", "Jonah", "Beatrix", "Frankie", "Lou", "Agnes", "Silas",
    "Maggie", "Wendell", "Opal", "Gus", "Pearl", "Arlo", "Dot",
];

// ---------------------------------------------------------------------------
// Vocabulary: categories and kinds of item
// ---------------------------------------------------------------------------

/// One kind of item within a category, e.g. "wallet" or "mug".
struct Kind {
    /// Synonymous nouns; a shop keeps using its favourite one.
    nouns: &'static [&'static str],
    /// Counting phrase for plural nouns ("pair of"), empty for singular.
    measure: &'static str,
    /// Adjectival "how it was made" words ("hand-stitched").
    made: &'static [&'static str],
    /// Sub-types for titles ("slim bifold", "stacking").
    variants: &'static [&'static str],
    /// Materials; `{leather}`, `{silver}` and `{gold}` expand to synonyms.
    materials: &'static [&'static str],
    /// Noun phrases used after "with".
    details: &'static [&'static str],
    /// Complete sentences about size and fit.
    dims: &'static [&'static str],
    /// Tag candidates.
    tags: &'static [&'static str],
    /// Typical price range in whole dollars.
    price: (i64, i64),
    /// Relative frequency within its category.
    weight: usize,
    /// Whether a vintage example of this kind is plausible.
    vintage_ok: bool,
    /// Extra kind-specific title templates (handmade items only).
    signature_titles: &'static [&'static str],
}

/// A category with its kinds and its descriptive vocabulary.
struct Category {
    slug: &'static str,
    /// Relative frequency as a shop's main category.
    weight: usize,
    kinds: &'static [Kind],
    adjectives: &'static [&'static str],
    colors: &'static [&'static str],
    styles: &'static [&'static str],
    occasions: &'static [&'static str],
    /// "How it was made" words for the shop's own description.
    made: &'static [&'static str],
    /// Sentences about technique and materials.
    notes: &'static [&'static str],
    /// Sentences about care.
    care: &'static [&'static str],
    tags: &'static [&'static str],
    /// Phrases describing what a shop in this category makes.
    focus: &'static [&'static str],
    /// Trade words for shop names ("Leatherworks").
    trades: &'static [&'static str],
    /// Nouns for "The Copper Kiln"-style shop names.
    things: &'static [&'static str],
    /// Slugs of categories a shop in this category also tends to sell.
    related: &'static [&'static str],
    /// Heavy or fragile goods cost more to ship.
    heavy: bool,
}

const NO_TITLES: &[&str] = &[];

const WALLET: Kind = Kind {
    nouns: WALLET_NOUNS,
    measure: "",
    made: &["hand-stitched", "hand-cut", "hand-sewn"],
    variants: &[
        "slim bifold",
        "minimalist",
        "front pocket",
        "trifold",
        "card sleeve",
        "long",
        "zip around",
        "passport",
        "coin",
        "money clip",
    ],
    materials: &[
        "{leather}",
        "{leather}",
        "{leather}",
        "{leather}",
        "{leather}",
        "waxed canvas",
        "cork",
    ],
    details: &[
        "six card slots",
        "a coin pocket",
        "hand-stitched edges",
        "a brass snap",
        "an ID window",
        "a personalized monogram",
        "a cash strap",
        "a hidden pocket",
    ],
    dims: &[
        "Measures 4.5 x 3.5 inches when folded.",
        "Holds 6 to 8 cards plus folded bills.",
        "Slim enough for a front pocket at under 1 cm thick.",
        "Opens flat to fit US bills without folding.",
    ],
    tags: &[
        "wallet",
        "leather wallet",
        "mens wallet",
        "bifold wallet",
        "card holder",
        "minimalist wallet",
        "billfold",
        "gift for him",
        "slim wallet",
        "personalized wallet",
        "anniversary gift",
        "womens wallet",
        "leather goods",
    ],
    price: (25, 180),
    weight: 55,
    vintage_ok: true,
    signature_titles: &[
        "handcrafted leather billfold{sep}{variant} in {color}",
        "handcrafted leather billfold with {detail}",
        "{adj} handcrafted leather billfold, {occasion}",
        "{color} handcrafted leather billfold{sep}{variant} {noun}",
    ],
};

const JEWELRY_KINDS: &[Kind] = &[
    Kind {
        nouns: NECKLACE_NOUNS,
        measure: "",
        made: &["hand-forged", "hand-stamped", "hand-hammered", "hand-cast"],
        variants: &[
            "layering",
            "dainty",
            "bar",
            "birthstone",
            "initial",
            "coin",
            "paperclip",
            "herringbone",
            "charm",
            "station",
        ],
        materials: &[
            "{silver}",
            "{gold}",
            "{silver}",
            "{gold}",
            "brass",
            "rose gold",
        ],
        details: &[
            "moonstone pendant",
            "freshwater pearl",
            "raw amethyst point",
            "labradorite drop",
            "tiny star charm",
            "hand-stamped initial",
            "opal accent",
            "turquoise stone",
            "garnet birthstone",
            "crescent moon charm",
        ],
        dims: &[
            "The chain is 18 inches long with a 2 inch extender.",
            "The pendant measures about 12 mm across.",
            "Available in 16, 18 and 20 inch lengths.",
            "Lobster clasp closure; the whole piece weighs just 3 grams.",
        ],
        tags: &[
            "necklace",
            "pendant necklace",
            "layering necklace",
            "dainty necklace",
            "choker",
            "gift for her",
            "minimalist jewelry",
            "everyday necklace",
        ],
        price: (18, 240),
        weight: 30,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: EARRING_NOUNS,
        measure: "pair of",
        made: &["hand-forged", "hand-hammered", "hand-cast", "hand-shaped"],
        variants: &[
            "huggie",
            "threader",
            "statement",
            "tiny",
            "geometric",
            "leaf",
            "crescent",
            "teardrop",
            "mismatched",
            "chandelier",
        ],
        materials: &[
            "{silver}",
            "{gold}",
            "{silver}",
            "{gold}",
            "brass",
            "rose gold",
        ],
        details: &[
            "garnet stones",
            "hammered texture",
            "pearl drops",
            "lever backs",
            "tiny crystals",
            "hypoallergenic ear wires",
            "opal inlay",
            "turquoise beads",
        ],
        dims: &[
            "Each earring measures about 1 inch from top to bottom.",
            "Hoops are 15 mm in diameter.",
            "Studs are 6 mm across with sterling posts.",
            "Very lightweight, about 2 grams per pair.",
        ],
        tags: &[
            "earrings",
            "stud earrings",
            "hoop earrings",
            "dangle earrings",
            "drop earrings",
            "gift for her",
            "minimalist earrings",
            "bridesmaid gift",
        ],
        price: (14, 160),
        weight: 30,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: RING_NOUNS,
        measure: "",
        made: &["hand-forged", "hand-cast", "hand-hammered", "hand-engraved"],
        variants: &[
            "stacking",
            "hammered",
            "minimalist",
            "chunky",
            "twisted",
            "engraved",
            "pinky",
            "thumb",
            "promise",
            "statement",
        ],
        materials: &[
            "{silver}",
            "{gold}",
            "{silver}",
            "{gold}",
            "rose gold",
            "brass",
        ],
        details: &[
            "a raw emerald",
            "a tiny diamond",
            "a bezel-set moonstone",
            "a hand-engraved crest",
            "a brushed finish",
            "a rose-cut garnet",
            "an oval opal",
        ],
        dims: &[
            "The band is 2 mm wide.",
            "Made to order in US sizes 4 to 13, including half sizes.",
            "The face measures 10 x 12 mm.",
            "Comfort-fit interior for all-day wear.",
        ],
        tags: &[
            "ring",
            "stacking ring",
            "signet ring",
            "wedding band",
            "promise ring",
            "gift for her",
            "gift for him",
            "minimalist ring",
        ],
        price: (22, 650),
        weight: 26,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["bracelet", "bangle", "cuff", "anklet"],
        measure: "",
        made: &[
            "hand-forged",
            "hand-hammered",
            "hand-beaded",
            "hand-braided",
        ],
        variants: &[
            "beaded",
            "charm",
            "chain",
            "hammered",
            "stacking",
            "adjustable",
            "braided",
            "tennis",
        ],
        materials: &[
            "{silver}",
            "{gold}",
            "brass",
            "copper",
            "{leather}",
            "gemstone bead",
        ],
        details: &[
            "a toggle clasp",
            "tiny freshwater pearls",
            "a personalized name tag",
            "lava stone beads",
            "an adjustable slider",
        ],
        dims: &[
            "Fits wrists 6 to 7.5 inches.",
            "The cuff is 1 cm wide and gently adjustable.",
            "Choose your size at checkout.",
        ],
        tags: &[
            "bracelet",
            "bangle",
            "cuff bracelet",
            "charm bracelet",
            "anklet",
            "beaded bracelet",
            "gift for her",
            "friendship bracelet",
        ],
        price: (16, 180),
        weight: 18,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["brooch", "pin", "lapel pin"],
        measure: "",
        made: &["hand-cast", "hand-enameled", "hand-cut"],
        variants: &["enamel", "floral", "bee", "bird", "star", "beetle", "cameo"],
        materials: &["brass", "{silver}", "enamel", "{gold}", "copper"],
        details: &[
            "a glass cabochon",
            "a locking pin back",
            "tiny seed pearls",
            "enamel details",
        ],
        dims: &[
            "Measures about 3 cm across.",
            "Secure locking clasp on the back.",
        ],
        tags: &["brooch", "pin", "lapel pin", "enamel pin", "gift for her"],
        price: (12, 90),
        weight: 10,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
];

const BAG_KINDS: &[Kind] = &[
    WALLET,
    Kind {
        nouns: &["tote", "tote bag", "shopper", "market bag", "carryall"],
        measure: "",
        made: &["hand-sewn", "hand-stitched", "hand-cut"],
        variants: &[
            "oversized",
            "zippered",
            "reversible",
            "everyday",
            "beach",
            "book",
            "farmers market",
            "convertible",
        ],
        materials: &[
            "{leather}",
            "canvas",
            "waxed canvas",
            "linen",
            "jute",
            "cotton",
            "upcycled denim",
        ],
        details: &[
            "an inside pocket",
            "leather handles",
            "a magnetic snap",
            "a zip top",
            "a wide gusset",
            "a key leash",
        ],
        dims: &[
            "Measures 15 x 16 inches with a 5 inch gusset.",
            "Handles have a 10 inch drop and fit over the shoulder.",
            "Fits a 15 inch laptop.",
        ],
        tags: &[
            "tote bag",
            "market bag",
            "canvas tote",
            "leather tote",
            "shopping bag",
            "beach bag",
            "book bag",
            "reusable bag",
        ],
        price: (28, 260),
        weight: 20,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &[
            "crossbody bag",
            "shoulder bag",
            "satchel",
            "messenger bag",
            "handbag",
        ],
        measure: "",
        made: &["hand-stitched", "hand-cut", "hand-sewn"],
        variants: &[
            "small",
            "saddle",
            "camera",
            "bucket",
            "half moon",
            "sling",
            "structured",
            "mini",
        ],
        materials: &[
            "{leather}",
            "{leather}",
            "waxed canvas",
            "suede",
            "vegan leather",
        ],
        details: &[
            "an adjustable strap",
            "brass hardware",
            "a front flap",
            "two inner pockets",
            "a detachable strap",
        ],
        dims: &[
            "Measures 9 x 7 x 3 inches.",
            "The strap adjusts from 40 to 52 inches.",
            "Big enough for a phone, keys and a small wallet.",
        ],
        tags: &[
            "crossbody bag",
            "shoulder bag",
            "leather bag",
            "satchel",
            "purse",
            "handbag",
            "messenger bag",
            "gift for her",
        ],
        price: (45, 420),
        weight: 22,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["clutch", "evening bag", "wristlet", "pouch"],
        measure: "",
        made: &["hand-sewn", "hand-beaded", "hand-stitched"],
        variants: &[
            "beaded", "envelope", "frame", "woven", "zip", "bridal", "makeup", "pleated",
        ],
        materials: &["{leather}", "velvet", "linen", "straw", "silk", "suede"],
        details: &[
            "a wrist strap",
            "a gold clasp",
            "a chain strap",
            "a satin lining",
        ],
        dims: &[
            "Measures 10 x 6 inches.",
            "Fits a phone, cards and lipstick.",
        ],
        tags: &[
            "clutch",
            "evening bag",
            "wristlet",
            "pouch",
            "bridal clutch",
            "makeup bag",
            "wedding",
        ],
        price: (20, 140),
        weight: 12,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["backpack", "rucksack", "daypack"],
        measure: "",
        made: &["hand-sewn", "hand-stitched"],
        variants: &[
            "rolltop",
            "drawstring",
            "laptop",
            "mini",
            "hiking",
            "convertible",
        ],
        materials: &["waxed canvas", "{leather}", "canvas", "cordura", "denim"],
        details: &[
            "padded straps",
            "a laptop sleeve",
            "leather trim",
            "a water bottle pocket",
        ],
        dims: &[
            "Holds about 20 liters.",
            "Fits a 16 inch laptop.",
            "Measures 17 x 12 x 6 inches.",
        ],
        tags: &[
            "backpack",
            "rucksack",
            "waxed canvas",
            "laptop bag",
            "travel bag",
            "daypack",
        ],
        price: (60, 380),
        weight: 8,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
];

const HOME_KINDS: &[Kind] = &[
    Kind {
        nouns: &["throw pillow", "cushion cover", "pillow cover", "cushion"],
        measure: "",
        made: &[
            "hand-sewn",
            "block-printed",
            "hand-embroidered",
            "hand-woven",
        ],
        variants: &[
            "lumbar",
            "square",
            "embroidered",
            "tufted",
            "block printed",
            "striped",
            "fringed",
            "patchwork",
        ],
        materials: &[
            "linen", "cotton", "wool", "velvet", "mudcloth", "hemp", "kilim",
        ],
        details: &[
            "a hidden zipper",
            "tassel corners",
            "hand embroidery",
            "a feather insert",
        ],
        dims: &[
            "Fits a 20 x 20 inch insert.",
            "Lumbar size is 14 x 24 inches.",
            "Insert sold separately.",
        ],
        tags: &[
            "throw pillow",
            "pillow cover",
            "cushion cover",
            "lumbar pillow",
            "boho decor",
            "home decor",
            "living room decor",
        ],
        price: (22, 95),
        weight: 22,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["wall hanging", "tapestry", "weaving", "macrame hanging"],
        measure: "",
        made: &["hand-woven", "hand-knotted", "hand-dyed"],
        variants: &[
            "large",
            "small",
            "fringed",
            "rainbow",
            "woven",
            "modern",
            "textured",
            "statement",
        ],
        materials: &[
            "wool",
            "cotton cord",
            "merino wool",
            "jute",
            "recycled cotton",
            "silk",
        ],
        details: &[
            "a driftwood rod",
            "a brass dowel",
            "long fringe",
            "hand-dyed fibers",
        ],
        dims: &[
            "Measures 24 x 36 inches including fringe.",
            "Hangs from a 30 inch wooden dowel.",
            "Arrives ready to hang.",
        ],
        tags: &[
            "wall hanging",
            "macrame",
            "tapestry",
            "woven wall art",
            "boho wall decor",
            "fiber art",
            "nursery decor",
        ],
        price: (30, 320),
        weight: 18,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["planter", "plant hanger", "plant pot", "hanging planter"],
        measure: "",
        made: &["hand-cast", "hand-knotted", "hand-finished"],
        variants: &[
            "hanging",
            "self-watering",
            "small",
            "geometric",
            "footed",
            "wall",
        ],
        materials: &[
            "concrete",
            "macrame cord",
            "terracotta",
            "cotton rope",
            "jesmonite",
        ],
        details: &[
            "a drainage hole",
            "a matching saucer",
            "wooden beads",
            "a brass ring",
        ],
        dims: &[
            "Fits a 6 inch pot.",
            "The hanger is 40 inches long.",
            "Measures 5 inches tall and 5 inches wide.",
        ],
        tags: &[
            "planter",
            "plant hanger",
            "macrame",
            "plant pot",
            "plant lover gift",
            "indoor planter",
        ],
        price: (15, 85),
        weight: 15,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["throw blanket", "quilt", "blanket", "afghan"],
        measure: "",
        made: &["hand-knitted", "hand-crocheted", "hand-quilted"],
        variants: &[
            "chunky knit",
            "patchwork",
            "baby",
            "granny square",
            "waffle",
            "crochet",
            "weighted",
            "picnic",
        ],
        materials: &[
            "merino wool",
            "cotton",
            "chunky yarn",
            "linen",
            "wool",
            "alpaca",
        ],
        details: &[
            "a scalloped edge",
            "tassels",
            "a pom pom trim",
            "a quilted border",
        ],
        dims: &[
            "Measures 50 x 60 inches.",
            "Baby size is 30 x 36 inches.",
            "Knitted or crocheted by hand, one row at a time.",
            "Weighs about 2 kg.",
        ],
        tags: &[
            "throw blanket",
            "quilt",
            "knitted blanket",
            "crochet blanket",
            "baby blanket",
            "chunky knit",
            "cozy gift",
            "afghan",
        ],
        price: (60, 600),
        weight: 12,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["wreath", "door wreath", "garland"],
        measure: "",
        made: &["hand-tied", "hand-wrapped", "hand-arranged"],
        variants: &[
            "dried flower",
            "eucalyptus",
            "seasonal",
            "lavender",
            "boxwood",
            "autumn",
        ],
        materials: &[
            "dried flowers",
            "preserved eucalyptus",
            "grapevine",
            "wool felt",
            "pampas grass",
        ],
        details: &[
            "a linen bow",
            "dried lavender",
            "cotton bolls",
            "a jute hanger",
        ],
        dims: &["Measures 18 inches across.", "The garland is 6 feet long."],
        tags: &[
            "wreath",
            "door wreath",
            "dried flowers",
            "farmhouse decor",
            "front door decor",
            "garland",
        ],
        price: (35, 120),
        weight: 10,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["mirror", "wall mirror", "round mirror"],
        measure: "",
        made: &["hand-woven", "hand-finished", "hand-wrapped"],
        variants: &["rattan", "sunburst", "arched", "round", "framed"],
        materials: &["rattan", "reclaimed wood", "brass", "seagrass"],
        details: &["a beveled edge", "a leather hanging strap"],
        dims: &[
            "Measures 24 inches in diameter.",
            "Ready to hang on a single nail.",
        ],
        tags: &[
            "mirror",
            "wall mirror",
            "boho mirror",
            "rattan mirror",
            "home decor",
        ],
        price: (45, 320),
        weight: 8,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
];

const CLOTHING_KINDS: &[Kind] = &[
    Kind {
        nouns: &["sweater", "jumper", "cardigan", "pullover"],
        measure: "",
        made: &["hand-knitted", "hand-knit", "knitted"],
        variants: &[
            "cable knit",
            "fisherman",
            "cropped",
            "oversized",
            "fair isle",
            "turtleneck",
            "raglan",
            "chunky knit",
        ],
        materials: &[
            "merino wool",
            "alpaca",
            "chunky wool",
            "cotton yarn",
            "mohair",
            "cashmere blend",
        ],
        details: &[
            "wooden buttons",
            "ribbed cuffs",
            "a shawl collar",
            "pockets",
        ],
        dims: &[
            "Available in sizes XS to XL; see the size chart in the photos.",
            "The model is 5 ft 7 and wears a size S.",
            "Relaxed fit; size down for a closer fit.",
            "Knitting one takes me about a week, start to finish.",
        ],
        tags: &[
            "sweater",
            "cardigan",
            "hand knit sweater",
            "wool sweater",
            "knitted",
            "knitwear",
            "chunky sweater",
            "gift for her",
        ],
        price: (65, 420),
        weight: 18,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["beanie", "hat", "toque", "slouchy hat", "bobble hat"],
        measure: "",
        made: &["hand-knitted", "hand-knit", "knitted"],
        variants: &[
            "ribbed",
            "cable knit",
            "pom pom",
            "fisherman",
            "slouchy",
            "watch cap",
            "chunky",
        ],
        materials: &["merino wool", "alpaca", "wool", "cotton", "mohair"],
        details: &["a faux fur pom pom", "a folded brim", "a leather tag"],
        dims: &[
            "One size fits most adults.",
            "Stretches to fit heads 21 to 23 inches around.",
        ],
        tags: &[
            "beanie",
            "knit hat",
            "winter hat",
            "pom pom hat",
            "wool hat",
            "knitted hat",
            "gift for him",
            "gift for her",
        ],
        price: (22, 70),
        weight: 18,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["scarf", "cowl", "wrap", "shawl"],
        measure: "",
        made: &["hand-knitted", "hand-woven", "knitted"],
        variants: &[
            "infinity",
            "chunky",
            "lightweight",
            "fringed",
            "blanket",
            "triangle",
            "lace",
        ],
        materials: &["merino wool", "alpaca", "linen", "silk", "cotton", "mohair"],
        details: &["fringe ends", "a hand-dyed gradient", "a lace edge"],
        dims: &["Measures 70 x 10 inches.", "The cowl is 26 inches around."],
        tags: &[
            "scarf",
            "cowl",
            "knit scarf",
            "shawl",
            "wrap",
            "winter accessories",
            "gift for her",
        ],
        price: (25, 140),
        weight: 15,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &[
            "dress",
            "sundress",
            "smock dress",
            "wrap dress",
            "shift dress",
        ],
        measure: "",
        made: &["hand-sewn", "hand-dyed", "hand-smocked"],
        variants: &[
            "midi",
            "maxi",
            "tiered",
            "button front",
            "sleeveless",
            "puff sleeve",
            "a-line",
        ],
        materials: &["linen", "cotton", "organic cotton", "rayon", "double gauze"],
        details: &[
            "pockets",
            "a tie waist",
            "a smocked bodice",
            "coconut shell buttons",
        ],
        dims: &[
            "Made to your measurements.",
            "Length is 45 inches from the shoulder.",
        ],
        tags: &[
            "dress",
            "linen dress",
            "summer dress",
            "sundress",
            "midi dress",
            "cottagecore",
            "sustainable fashion",
        ],
        price: (55, 260),
        weight: 15,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["t-shirt", "tee", "shirt", "sweatshirt"],
        measure: "",
        made: &["hand-printed", "screen-printed", "hand-dyed"],
        variants: &[
            "screen printed",
            "graphic",
            "oversized",
            "pocket",
            "crewneck",
            "hand-dyed",
            "embroidered",
        ],
        materials: &["organic cotton", "cotton", "hemp blend", "recycled cotton"],
        details: &[
            "a mushroom print",
            "a botanical illustration",
            "a tiny embroidered heart",
            "a mountain print",
        ],
        dims: &["Unisex sizing, S to 3XL.", "Printed with water-based inks."],
        tags: &[
            "t-shirt",
            "graphic tee",
            "screen print",
            "unisex shirt",
            "sweatshirt",
            "gift for him",
        ],
        price: (18, 55),
        weight: 15,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["socks", "slipper socks", "boot socks", "house socks"],
        measure: "pair of",
        made: &["hand-knitted", "hand-knit", "knitted"],
        variants: &["hand-knit", "cozy", "hiking", "striped", "cabin", "ribbed"],
        materials: &["merino wool", "wool", "alpaca", "cotton"],
        details: &["reinforced heels", "a stripe pattern", "a folded cuff"],
        dims: &[
            "Fits women's shoe sizes 6 to 10.",
            "Knee length.",
            "Knitted in the round on tiny needles, so there are no bulky seams.",
        ],
        tags: &[
            "socks",
            "wool socks",
            "hand knit socks",
            "cozy socks",
            "slipper socks",
            "gift for her",
        ],
        price: (14, 48),
        weight: 8,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["jacket", "chore coat", "coat", "work jacket"],
        measure: "",
        made: &["hand-sewn", "hand-embroidered", "hand-quilted"],
        variants: &[
            "cropped",
            "oversized",
            "quilted",
            "patchwork",
            "embroidered",
            "trucker",
        ],
        materials: &["denim", "wool", "waxed cotton", "corduroy", "{leather}"],
        details: &[
            "brass buttons",
            "patch pockets",
            "a flannel lining",
            "an embroidered back",
        ],
        dims: &[
            "Chest measures 22 inches pit to pit.",
            "Length is 26 inches from the shoulder.",
        ],
        tags: &[
            "jacket",
            "denim jacket",
            "chore coat",
            "quilted jacket",
            "outerwear",
            "leather jacket",
        ],
        price: (45, 380),
        weight: 10,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
];

const ART_KINDS: &[Kind] = &[
    Kind {
        nouns: &["art print", "print", "giclee print", "poster"],
        measure: "",
        made: &["hand-signed", "hand-painted", "hand-illustrated"],
        variants: &[
            "botanical",
            "8x10",
            "A4",
            "large",
            "landscape",
            "mushroom",
            "bird",
            "ocean",
        ],
        materials: &[
            "archival paper",
            "cotton rag paper",
            "watercolor paper",
            "matte paper",
        ],
        details: &[
            "a white border",
            "gold foil accents",
            "a signed edition number",
        ],
        dims: &[
            "Available in 5x7, 8x10 and 11x14 inches.",
            "Printed to order at A4 size.",
            "Ships flat with a backing board.",
        ],
        tags: &[
            "art print",
            "wall art",
            "botanical print",
            "giclee print",
            "poster",
            "home decor",
            "gallery wall",
        ],
        price: (15, 90),
        weight: 30,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &[
            "original painting",
            "painting",
            "original artwork",
            "artwork",
        ],
        measure: "",
        made: &["hand-painted", "painted"],
        variants: &[
            "small",
            "large",
            "abstract",
            "landscape",
            "still life",
            "seascape",
            "portrait",
            "miniature",
        ],
        materials: &[
            "canvas",
            "linen panel",
            "watercolor paper",
            "wood panel",
            "cradled birch",
        ],
        details: &[
            "a floating frame",
            "palette knife texture",
            "gold leaf details",
        ],
        dims: &[
            "Painted on a 12 x 16 inch canvas.",
            "Measures 24 x 36 inches, unframed.",
            "The sides are painted, so it is ready to hang without a frame.",
        ],
        tags: &[
            "original painting",
            "oil painting",
            "watercolor",
            "abstract art",
            "landscape painting",
            "wall art",
            "original art",
        ],
        price: (60, 2400),
        weight: 20,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["ink drawing", "illustration", "sketch", "drawing"],
        measure: "",
        made: &["hand-drawn", "hand-inked"],
        variants: &[
            "pet portrait",
            "custom",
            "line",
            "botanical",
            "house portrait",
            "small",
        ],
        materials: &["ink", "pencil", "graphite", "pen and ink", "colored pencil"],
        details: &["a hand-lettered name", "a watercolor wash"],
        dims: &["Drawn on 8 x 10 inch bristol board."],
        tags: &[
            "pet portrait",
            "custom drawing",
            "illustration",
            "ink drawing",
            "sketch",
            "house portrait",
        ],
        price: (35, 300),
        weight: 15,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["linocut", "block print", "relief print", "woodcut"],
        measure: "",
        made: &["hand-carved", "hand-pulled", "hand-printed"],
        variants: &[
            "limited edition",
            "two color",
            "reduction",
            "small",
            "botanical",
            "moth",
        ],
        materials: &[
            "japanese paper",
            "cotton paper",
            "mulberry paper",
            "rice paper",
        ],
        details: &["a hand-signed edition number", "a deckled edge"],
        dims: &[
            "Image size 6 x 8 inches on 9 x 12 inch paper.",
            "Edition of 30.",
        ],
        tags: &[
            "linocut",
            "block print",
            "printmaking",
            "relief print",
            "original print",
            "wall art",
        ],
        price: (25, 140),
        weight: 15,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["photograph", "photo print", "fine art photograph"],
        measure: "",
        made: &["hand-printed", "hand-signed"],
        variants: &[
            "black and white",
            "film",
            "landscape",
            "coastal",
            "framed",
            "large",
        ],
        materials: &["archival paper", "metallic paper", "canvas", "lustre paper"],
        details: &["a white mat", "a signed certificate"],
        dims: &["Available from 8x10 up to 24x36 inches."],
        tags: &[
            "photography",
            "photo print",
            "wall art",
            "black and white",
            "landscape",
            "film photography",
        ],
        price: (20, 250),
        weight: 10,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
];

const CERAMIC_MATERIALS: &[&str] = &[
    "stoneware",
    "porcelain",
    "speckled clay",
    "earthenware",
    "ceramic",
    "terracotta",
    "raku",
];

const CERAMICS_KINDS: &[Kind] = &[
    Kind {
        nouns: &["mug", "coffee mug", "tea cup", "cup"],
        measure: "",
        made: &["wheel-thrown", "hand-thrown", "hand-glazed"],
        variants: &[
            "large",
            "12 oz",
            "handleless",
            "speckled",
            "stacking",
            "espresso",
            "latte",
            "tall",
        ],
        materials: CERAMIC_MATERIALS,
        details: &[
            "a thumb rest",
            "a drippy glaze",
            "carved texture",
            "a wax resist pattern",
        ],
        dims: &[
            "Holds about 12 oz.",
            "Stands 4 inches tall.",
            "Each one holds 10 to 14 oz.",
        ],
        tags: &[
            "mug",
            "coffee mug",
            "ceramic mug",
            "pottery mug",
            "handmade mug",
            "tea cup",
            "stoneware",
            "coffee lover gift",
        ],
        price: (24, 68),
        weight: 30,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["vase", "bud vase", "flower vase", "vessel"],
        measure: "",
        made: &["wheel-thrown", "hand-built", "hand-glazed", "hand-carved"],
        variants: &[
            "tall", "small", "bottle", "round", "ribbed", "textured", "moon", "amphora",
        ],
        materials: CERAMIC_MATERIALS,
        details: &[
            "a crackle glaze",
            "a matte finish",
            "a carved pattern",
            "a watertight interior",
        ],
        dims: &[
            "Stands 8 inches tall.",
            "The opening is 1 inch wide, perfect for a few stems.",
            "Watertight and ready for fresh flowers.",
        ],
        tags: &[
            "vase",
            "bud vase",
            "ceramic vase",
            "pottery vase",
            "flower vase",
            "home decor",
        ],
        price: (28, 240),
        weight: 22,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["bowl", "serving bowl", "ramen bowl", "dish"],
        measure: "",
        made: &["wheel-thrown", "hand-thrown", "hand-glazed"],
        variants: &[
            "nesting", "large", "footed", "shallow", "noodle", "cereal", "salad",
        ],
        materials: CERAMIC_MATERIALS,
        details: &["a speckled glaze", "a carved rim", "a raw clay foot"],
        dims: &[
            "Measures 6 inches across and 3 inches deep.",
            "The serving size is 10 inches wide.",
        ],
        tags: &[
            "bowl",
            "ceramic bowl",
            "serving bowl",
            "pottery",
            "ramen bowl",
            "kitchen",
        ],
        price: (22, 180),
        weight: 20,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["plate", "dinner plate", "platter", "side plate"],
        measure: "",
        made: &["hand-built", "wheel-thrown", "hand-painted"],
        variants: &["dinner", "dessert", "rimmed", "large serving", "salad"],
        materials: CERAMIC_MATERIALS,
        details: &["a glossy rim", "a hand-painted border", "a satin glaze"],
        dims: &[
            "Measures 10.5 inches across.",
            "The platter is 14 inches long.",
        ],
        tags: &[
            "plate",
            "dinner plate",
            "platter",
            "ceramic plate",
            "dinnerware",
            "tableware",
        ],
        price: (28, 160),
        weight: 12,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["trinket dish", "ring dish", "jewelry dish", "catchall"],
        measure: "",
        made: &["hand-built", "hand-pinched", "hand-painted"],
        variants: &["tiny", "heart", "scalloped", "gold rimmed", "leaf", "shell"],
        materials: CERAMIC_MATERIALS,
        details: &["a gold luster rim", "hand-painted dots"],
        dims: &["Measures 4 inches across."],
        tags: &[
            "ring dish",
            "trinket dish",
            "jewelry dish",
            "catchall",
            "gift for her",
        ],
        price: (12, 38),
        weight: 14,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
];

const CANDLE_KINDS: &[Kind] = &[
    Kind {
        nouns: &["candle", "scented candle", "jar candle", "container candle"],
        measure: "",
        made: &["hand-poured", "small-batch"],
        variants: &[
            "8 oz",
            "travel",
            "large",
            "three wick",
            "amber jar",
            "tin",
            "ceramic",
        ],
        materials: &[
            "soy wax",
            "coconut wax",
            "beeswax",
            "coconut soy wax",
            "rapeseed wax",
        ],
        details: &[
            "notes of cedar and smoke",
            "lavender and sage",
            "a crackling wooden wick",
            "fig and black pepper",
            "sea salt and driftwood",
            "vanilla bean",
            "pine and fir",
            "tobacco and bourbon",
            "orange blossom",
        ],
        dims: &[
            "The 8 oz jar gives about 45 hours of burn time.",
            "The travel tin holds 4 oz.",
            "The jar is reusable once the wax is gone.",
            "All our candles are hand-poured in small batches.",
        ],
        tags: &[
            "candle",
            "soy candle",
            "scented candle",
            "candles",
            "wooden wick",
            "gift for her",
            "housewarming gift",
            "home fragrance",
        ],
        price: (12, 48),
        weight: 40,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["pillar candle", "block candle", "church candle"],
        measure: "",
        made: &["hand-poured", "hand-carved"],
        variants: &["unscented", "rustic", "tall", "carved", "twisted"],
        materials: &["beeswax", "soy wax", "palm-free wax", "paraffin-free wax"],
        details: &["a cotton wick", "a honeycomb texture", "pressed flowers"],
        dims: &["Measures 3 x 6 inches, about 60 hours of burn time."],
        tags: &[
            "pillar candle",
            "beeswax candle",
            "unscented candle",
            "candles",
            "table decor",
        ],
        price: (10, 45),
        weight: 15,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["taper candles", "tapers", "dinner candles"],
        measure: "set of",
        made: &["hand-dipped", "hand-rolled"],
        variants: &["hand-dipped", "twisted", "colored", "10 inch", "unscented"],
        materials: &["beeswax", "soy wax", "paraffin-free wax"],
        details: &["drip-free wicks", "a gentle honey scent"],
        dims: &[
            "Each taper is 10 inches tall and 7/8 inch wide.",
            "Sold as a pair.",
        ],
        tags: &[
            "taper candles",
            "beeswax candles",
            "dinner candles",
            "candlesticks",
            "table decor",
        ],
        price: (10, 36),
        weight: 15,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["wax melts", "wax tarts", "melts"],
        measure: "pack of",
        made: &["hand-poured", "small-batch"],
        variants: &["clamshell", "shaped", "snap bar", "heart"],
        materials: &["soy wax", "coconut wax", "rapeseed wax"],
        details: &["a strong scent throw", "dried botanicals"],
        dims: &["Each pack has 6 cubes, about 80 g."],
        tags: &["wax melts", "wax tarts", "soy wax melts", "home fragrance"],
        price: (6, 18),
        weight: 12,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &[
            "candle holder",
            "candlestick",
            "candlestick holder",
            "tealight holder",
        ],
        measure: "",
        made: &["hand-turned", "hand-thrown", "hand-finished"],
        variants: &["tall", "taper", "footed", "pillar", "chunky", "twisted"],
        materials: &["brass", "ceramic", "turned wood", "stoneware", "glass"],
        details: &["a drip tray", "a hand-painted base"],
        dims: &[
            "Fits standard 7/8 inch taper candles.",
            "Stands 5 inches tall.",
        ],
        tags: &[
            "candle holder",
            "candlestick",
            "tealight holder",
            "brass candle holder",
            "candles",
        ],
        price: (15, 90),
        weight: 12,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
];

const TOY_KINDS: &[Kind] = &[
    Kind {
        nouns: &["stuffed animal", "plush toy", "soft toy", "amigurumi"],
        measure: "",
        made: &["hand-crocheted", "hand-knitted", "hand-sewn"],
        variants: &[
            "bunny", "bear", "whale", "fox", "octopus", "elephant", "dinosaur", "cat",
        ],
        materials: &[
            "cotton yarn",
            "organic cotton",
            "wool felt",
            "minky fabric",
            "merino wool",
        ],
        details: &[
            "safety eyes",
            "embroidered eyes",
            "a tiny scarf",
            "a knitted sweater",
        ],
        dims: &[
            "Stands about 10 inches tall.",
            "Safe for babies: the eyes are embroidered, not glued.",
        ],
        tags: &[
            "stuffed animal",
            "plush",
            "crochet toy",
            "amigurumi",
            "baby gift",
            "soft toy",
            "nursery decor",
        ],
        price: (20, 75),
        weight: 25,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &[
            "wooden toy",
            "pull toy",
            "stacking toy",
            "toy car",
            "rattle",
        ],
        measure: "",
        made: &["hand-carved", "hand-painted", "hand-turned"],
        variants: &[
            "rainbow",
            "montessori",
            "baby",
            "push along",
            "animal",
            "stacking",
        ],
        materials: &["maple", "beech", "walnut", "cherry", "birch"],
        details: &["non-toxic paint", "a beeswax finish", "rounded edges"],
        dims: &["Measures 6 inches long.", "Suitable for ages 1 and up."],
        tags: &[
            "wooden toy",
            "montessori",
            "baby toy",
            "stacking toy",
            "toddler gift",
            "waldorf toy",
            "eco friendly toy",
        ],
        price: (18, 90),
        weight: 25,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["puzzle", "jigsaw puzzle", "wooden puzzle"],
        measure: "",
        made: &["hand-cut", "hand-painted"],
        variants: &["500 piece", "1000 piece", "animal", "shape", "name", "map"],
        materials: &["birch plywood", "maple", "recycled cardboard"],
        details: &["whimsy pieces", "a keepsake box", "a personalized name"],
        dims: &["The finished size is 18 x 24 inches."],
        tags: &[
            "puzzle",
            "jigsaw puzzle",
            "wooden puzzle",
            "name puzzle",
            "family game night",
        ],
        price: (18, 60),
        weight: 18,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &[
            "board game",
            "chess set",
            "game board",
            "backgammon set",
            "checkers set",
        ],
        measure: "",
        made: &["hand-carved", "hand-finished", "hand-painted"],
        variants: &[
            "travel",
            "magnetic",
            "folding",
            "inlaid",
            "hand-painted",
            "tabletop",
        ],
        materials: &["walnut", "maple", "cherry", "{leather}", "marble"],
        details: &["a storage drawer", "hand-carved pieces", "felted bottoms"],
        dims: &[
            "The board is 14 inches square.",
            "Folds in half for travel.",
        ],
        tags: &[
            "chess set",
            "board game",
            "game night",
            "backgammon",
            "wooden game",
            "gift for him",
        ],
        price: (35, 420),
        weight: 12,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["doll", "rag doll", "waldorf doll", "cloth doll"],
        measure: "",
        made: &["hand-sewn", "hand-stitched", "hand-embroidered"],
        variants: &["heirloom", "tiny", "pocket", "cotton", "custom"],
        materials: &["cotton", "wool felt", "linen", "mohair"],
        details: &["yarn hair", "a removable dress", "a little apron"],
        dims: &["Measures 12 inches tall."],
        tags: &[
            "doll",
            "rag doll",
            "waldorf doll",
            "heirloom toy",
            "cloth doll",
            "baby gift",
        ],
        price: (35, 180),
        weight: 12,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
];

const PAPER_KINDS: &[Kind] = &[
    Kind {
        nouns: &[
            "greeting card",
            "card",
            "birthday card",
            "thank you card",
            "note card",
        ],
        measure: "",
        made: &["letterpress-printed", "hand-lettered", "hand-illustrated"],
        variants: &[
            "letterpress",
            "illustrated",
            "funny",
            "botanical",
            "pop up",
            "hand-lettered",
            "watercolor",
        ],
        materials: &[
            "recycled cardstock",
            "cotton paper",
            "kraft paper",
            "heavyweight paper",
        ],
        details: &["a kraft envelope", "gold foil", "hand-painted details"],
        dims: &["A2 size, 4.25 x 5.5 inches.", "Blank inside."],
        tags: &[
            "greeting card",
            "birthday card",
            "thank you card",
            "card",
            "stationery",
            "letterpress",
            "cards",
        ],
        price: (4, 9),
        weight: 30,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["journal", "notebook", "sketchbook", "diary"],
        measure: "",
        made: &["hand-bound", "hand-stitched"],
        variants: &[
            "A5",
            "pocket",
            "dot grid",
            "lined",
            "travel",
            "coptic bound",
            "refillable",
        ],
        materials: &[
            "{leather}",
            "linen cloth",
            "recycled paper",
            "marbled paper",
            "kraft",
        ],
        details: &[
            "a wrap closure",
            "120 gsm pages",
            "a ribbon bookmark",
            "deckled edges",
        ],
        dims: &["A5 size with 192 pages.", "Pocket size, 3.5 x 5.5 inches."],
        tags: &[
            "journal",
            "notebook",
            "sketchbook",
            "leather journal",
            "diary",
            "bullet journal",
            "gift for writers",
        ],
        price: (14, 75),
        weight: 25,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &[
            "stationery set",
            "notecard set",
            "writing set",
            "letter set",
        ],
        measure: "",
        made: &["hand-lettered", "letterpress-printed", "hand-illustrated"],
        variants: &[
            "floral",
            "botanical",
            "personalized",
            "monogram",
            "watercolor",
        ],
        materials: &[
            "cotton paper",
            "recycled paper",
            "handmade paper",
            "laid paper",
        ],
        details: &["matching envelopes", "a wax seal"],
        dims: &["Includes 10 sheets and 10 envelopes."],
        tags: &[
            "stationery",
            "notecards",
            "writing set",
            "letter writing",
            "personalized",
            "pen pal",
        ],
        price: (12, 48),
        weight: 15,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["planner", "weekly planner", "calendar", "wall calendar"],
        measure: "",
        made: &["hand-illustrated", "hand-bound"],
        variants: &["undated", "2025", "monthly", "desk", "illustrated"],
        materials: &["recycled paper", "cardstock", "linen cover"],
        details: &["tabbed months", "a habit tracker", "spiral binding"],
        dims: &["Measures 6 x 8 inches."],
        tags: &[
            "planner",
            "calendar",
            "weekly planner",
            "wall calendar",
            "organizer",
        ],
        price: (18, 48),
        weight: 12,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &[
            "sticker sheet",
            "sticker",
            "sticker pack",
            "die cut sticker",
        ],
        measure: "",
        made: &["hand-illustrated", "hand-drawn"],
        variants: &["waterproof", "holographic", "mushroom", "cat", "planner"],
        materials: &["vinyl", "matte paper", "holographic vinyl"],
        details: &["a matte finish", "kiss cut edges"],
        dims: &["Each sticker is about 3 inches wide."],
        tags: &[
            "stickers",
            "sticker",
            "vinyl sticker",
            "laptop sticker",
            "planner stickers",
            "water bottle",
        ],
        price: (3, 14),
        weight: 15,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &[
            "wedding invitation",
            "invitation suite",
            "save the date",
            "invitation",
        ],
        measure: "",
        made: &["hand-lettered", "letterpress-printed", "hand-calligraphed"],
        variants: &[
            "letterpress",
            "watercolor",
            "minimalist",
            "floral",
            "printable",
        ],
        materials: &["cotton paper", "handmade paper", "vellum", "cardstock"],
        details: &["wax seals", "envelope liners", "a vellum wrap"],
        dims: &[
            "Priced per set of 25.",
            "Printed at 5 x 7 inches with matching RSVP cards.",
        ],
        tags: &[
            "wedding invitation",
            "save the date",
            "invitations",
            "wedding",
            "stationery",
        ],
        price: (45, 250),
        weight: 8,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["postcard", "postcard set", "ephemera lot"],
        measure: "",
        made: &["hand-illustrated", "hand-painted"],
        variants: &["travel", "souvenir", "illustrated", "linen", "real photo"],
        materials: &["cardstock", "paper", "linen finish card"],
        details: &["a handwritten message", "original stamps"],
        dims: &["Standard 3.5 x 5.5 inches."],
        tags: &["postcard", "ephemera", "travel", "collectible", "paper"],
        price: (4, 30),
        weight: 6,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
];

const WOOD_KINDS: &[Kind] = &[
    Kind {
        nouns: &[
            "cutting board",
            "chopping board",
            "charcuterie board",
            "serving board",
            "butcher block",
        ],
        measure: "",
        made: &["hand-shaped", "hand-finished", "hand-cut"],
        variants: &[
            "end grain",
            "edge grain",
            "large",
            "handled",
            "engraved",
            "paddle",
        ],
        materials: &[
            "walnut",
            "maple",
            "cherry",
            "white oak",
            "olive wood",
            "acacia",
        ],
        details: &[
            "juice grooves",
            "rubber feet",
            "a personalized engraving",
            "a leather hanging strap",
        ],
        dims: &[
            "Measures 16 x 11 x 1.25 inches.",
            "The paddle board is 20 inches long including the handle.",
        ],
        tags: &[
            "cutting board",
            "charcuterie board",
            "butcher block",
            "wood cutting board",
            "wedding gift",
            "housewarming gift",
            "kitchen",
        ],
        price: (35, 180),
        weight: 30,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["wooden spoon", "spoon", "spatula", "utensil set", "scoop"],
        measure: "",
        made: &["hand-carved", "hand-whittled"],
        variants: &["cooking", "serving", "coffee", "eating", "sourdough"],
        materials: &["cherry", "walnut", "birch", "olive wood", "maple"],
        details: &["a faceted handle", "a smooth bowl"],
        dims: &["About 12 inches long."],
        tags: &[
            "wooden spoon",
            "spoon carving",
            "kitchen utensils",
            "cooking spoon",
            "spatula",
        ],
        price: (14, 65),
        weight: 20,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &[
            "keepsake box",
            "wooden box",
            "jewelry box",
            "trinket box",
            "recipe box",
        ],
        measure: "",
        made: &["hand-cut", "hand-finished", "hand-joined"],
        variants: &["hinged", "small", "inlaid", "engraved", "dovetailed"],
        materials: &["walnut", "maple", "cherry", "mahogany", "oak"],
        details: &["a felt lined interior", "brass hinges", "a sliding lid"],
        dims: &["Measures 8 x 5 x 3 inches."],
        tags: &[
            "keepsake box",
            "wooden box",
            "jewelry box",
            "anniversary gift",
            "memory box",
        ],
        price: (28, 220),
        weight: 15,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["floating shelf", "wall shelf", "shelf", "plant shelf"],
        measure: "",
        made: &["hand-finished", "hand-planed"],
        variants: &["live edge", "corner", "ladder", "rustic", "minimal"],
        materials: &["white oak", "walnut", "reclaimed barn wood", "pine", "ash"],
        details: &["hidden brackets", "a rounded front edge"],
        dims: &[
            "It is 24 inches wide and 8 inches deep.",
            "Holds up to 40 pounds.",
        ],
        tags: &[
            "floating shelf",
            "wall shelf",
            "live edge",
            "rustic shelf",
            "home decor",
        ],
        price: (45, 260),
        weight: 12,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["side table", "stool", "bench", "coffee table", "end table"],
        measure: "",
        made: &["hand-built", "hand-finished", "hand-joined"],
        variants: &[
            "live edge",
            "three legged",
            "shaker",
            "mid-century",
            "entryway",
        ],
        materials: &["white oak", "walnut", "reclaimed wood", "cherry", "ash"],
        details: &["tapered legs", "a hand-rubbed oil finish", "wedged tenons"],
        dims: &[
            "Stands 18 inches tall.",
            "The top measures 36 x 20 inches.",
            "Ships in two pieces with simple assembly.",
        ],
        tags: &[
            "side table",
            "furniture",
            "wood stool",
            "bench",
            "coffee table",
            "live edge",
        ],
        price: (120, 2400),
        weight: 8,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["wooden bowl", "turned bowl", "salad bowl", "fruit bowl"],
        measure: "",
        made: &["hand-turned", "hand-carved"],
        variants: &["large", "live edge", "natural edge", "nesting"],
        materials: &["maple", "walnut", "cherry", "spalted maple", "ash"],
        details: &["a food-safe finish", "natural bark edges"],
        dims: &["Measures 10 inches across."],
        tags: &[
            "wooden bowl",
            "salad bowl",
            "wood turning",
            "fruit bowl",
            "kitchen decor",
        ],
        price: (40, 320),
        weight: 15,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
];

const ACCESSORY_KINDS: &[Kind] = &[
    WALLET,
    Kind {
        nouns: &["keychain", "key fob", "key ring", "lanyard"],
        measure: "",
        made: &["hand-stitched", "hand-stamped", "hand-cut"],
        variants: &["personalized", "mini", "loop", "clip", "monogram"],
        materials: &["{leather}", "{leather}", "brass", "cotton webbing"],
        details: &["a brass clip", "a stamped initial"],
        dims: &["About 4 inches long."],
        tags: &[
            "keychain",
            "key fob",
            "leather keychain",
            "personalized gift",
            "key ring",
        ],
        price: (8, 35),
        weight: 18,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["belt", "dress belt", "waist belt"],
        measure: "",
        made: &["hand-tooled", "hand-stitched", "hand-cut"],
        variants: &["western", "braided", "1.5 inch", "reversible", "tooled"],
        materials: &["{leather}", "{leather}", "canvas"],
        details: &["a solid brass buckle", "a hand-tooled pattern"],
        dims: &["Made to your waist size.", "It is 1.25 inches wide."],
        tags: &[
            "belt",
            "leather belt",
            "mens belt",
            "western belt",
            "gift for him",
        ],
        price: (35, 140),
        weight: 15,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &[
            "scrunchie",
            "hair clip",
            "headband",
            "hair bow",
            "claw clip",
        ],
        measure: "",
        made: &["hand-sewn", "hand-tied"],
        variants: &["oversized", "mini", "floral", "tortoise", "pleated", "bow"],
        materials: &["silk", "velvet", "linen", "cotton", "acetate"],
        details: &["a pearl accent", "an elastic band"],
        dims: &["Sold individually."],
        tags: &[
            "scrunchie",
            "hair clip",
            "headband",
            "hair accessories",
            "hair bow",
            "gift for her",
        ],
        price: (6, 28),
        weight: 14,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["watch strap", "watch band", "apple watch band"],
        measure: "",
        made: &["hand-stitched", "hand-cut"],
        variants: &["quick release", "20 mm", "22 mm", "stitched", "nato"],
        materials: &["{leather}", "canvas", "suede", "horween leather"],
        details: &["quick release pins", "a brass buckle"],
        dims: &["Fits 20 mm and 22 mm lugs."],
        tags: &[
            "watch strap",
            "watch band",
            "leather strap",
            "apple watch",
            "gift for him",
        ],
        price: (25, 90),
        weight: 10,
        vintage_ok: false,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["bow tie", "necktie", "tie", "pocket square"],
        measure: "",
        made: &["hand-sewn", "hand-rolled"],
        variants: &["skinny", "self-tie", "floral", "paisley", "knit"],
        materials: &["silk", "wool", "linen", "cotton"],
        details: &["a hand-rolled edge"],
        dims: &["It is 2.5 inches wide."],
        tags: &["bow tie", "necktie", "groomsmen gift", "wedding", "tie"],
        price: (25, 75),
        weight: 10,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
];

const VINTAGE_KINDS: &[Kind] = &[
    Kind {
        nouns: &["typewriter", "portable typewriter"],
        measure: "",
        made: &["serviced", "cleaned"],
        variants: &["portable", "manual", "working", "serviced"],
        materials: &["steel", "enamel", "metal"],
        details: &["a new ribbon", "the original case"],
        dims: &["Comes with the original carrying case."],
        tags: &[
            "typewriter",
            "vintage typewriter",
            "retro decor",
            "writer gift",
            "collectible",
        ],
        price: (80, 650),
        weight: 6,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["camera", "film camera", "rangefinder", "SLR camera"],
        measure: "",
        made: &["serviced", "tested"],
        variants: &["35mm", "medium format", "point and shoot", "folding"],
        materials: &["chrome", "metal", "leatherette"],
        details: &[
            "a working light meter",
            "the original lens cap",
            "a leather case",
        ],
        dims: &["The shutter fires at all speeds."],
        tags: &[
            "film camera",
            "35mm camera",
            "vintage camera",
            "photography",
            "analog",
        ],
        price: (45, 480),
        weight: 8,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["record", "vinyl record", "LP", "album"],
        measure: "",
        made: &["cleaned", "play-tested"],
        variants: &["first pressing", "jazz", "soul", "rock", "original"],
        materials: &["vinyl"],
        details: &["the original sleeve", "the inner sleeve"],
        dims: &["The vinyl plays through with light surface noise."],
        tags: &["vinyl record", "vinyl", "record", "lp", "music"],
        price: (8, 60),
        weight: 10,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["lamp", "table lamp", "desk lamp", "floor lamp"],
        measure: "",
        made: &["rewired", "restored"],
        variants: &["mushroom", "tension", "swing arm", "ginger jar", "ceramic"],
        materials: &["brass", "ceramic", "chrome", "teak", "glass"],
        details: &["a linen shade", "new wiring", "a dimmer switch"],
        dims: &[
            "Stands 22 inches tall.",
            "Rewired and tested, ready to plug in.",
        ],
        tags: &[
            "lamp",
            "table lamp",
            "desk lamp",
            "mid century lamp",
            "lighting",
            "retro lamp",
        ],
        price: (40, 380),
        weight: 10,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["suitcase", "trunk", "steamer trunk", "luggage"],
        measure: "",
        made: &["cleaned", "restored"],
        variants: &["hard shell", "train case", "traveling", "weekend"],
        materials: &["{leather}", "wood", "tweed", "canvas"],
        details: &["brass latches", "the original key", "a floral lining"],
        dims: &["Measures 24 x 15 x 8 inches."],
        tags: &["suitcase", "trunk", "luggage", "travel decor", "storage"],
        price: (45, 420),
        weight: 7,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["tin", "biscuit tin", "advertising tin", "canister"],
        measure: "",
        made: &["cleaned"],
        variants: &["tea", "biscuit", "tobacco", "advertising"],
        materials: &["tin", "metal", "enamel"],
        details: &["the original lid", "lithographed graphics"],
        dims: &["Measures 7 inches across."],
        tags: &[
            "tin",
            "advertising",
            "kitchen decor",
            "collectible",
            "storage tin",
        ],
        price: (12, 60),
        weight: 10,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &[
            "glasses",
            "tumblers",
            "coupe glasses",
            "highball glasses",
            "wine glasses",
        ],
        measure: "set of",
        made: &["hand-washed", "cleaned"],
        variants: &["etched", "gold rimmed", "smoked", "cut crystal", "atomic"],
        materials: &[
            "glass",
            "crystal",
            "pressed glass",
            "depression glass",
            "milk glass",
        ],
        details: &["gold rims", "an etched leaf pattern"],
        dims: &["A set of 4; each holds 8 oz."],
        tags: &[
            "glassware",
            "barware",
            "coupe glasses",
            "cocktail glasses",
            "depression glass",
            "tumblers",
        ],
        price: (20, 160),
        weight: 12,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["mirror", "wall mirror", "vanity mirror", "hand mirror"],
        measure: "",
        made: &["restored", "cleaned"],
        variants: &["ornate", "round", "gilt", "sunburst"],
        materials: &["brass", "gilt wood", "wood", "bronze"],
        details: &["the original glass", "beveled edges"],
        dims: &["Measures 18 x 24 inches."],
        tags: &[
            "mirror",
            "wall mirror",
            "vintage mirror",
            "ornate mirror",
            "home decor",
        ],
        price: (45, 380),
        weight: 8,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &[
            "casserole dish",
            "mixing bowl",
            "canister set",
            "dutch oven",
        ],
        measure: "",
        made: &["cleaned"],
        variants: &["nesting", "lidded", "speckled", "floral"],
        materials: &["pyrex", "enamel", "cast iron", "milk glass"],
        details: &["the original lid", "a floral pattern"],
        dims: &["Holds 2.5 quarts."],
        tags: &[
            "pyrex",
            "kitchenware",
            "enamelware",
            "cast iron",
            "retro kitchen",
        ],
        price: (18, 160),
        weight: 10,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
    Kind {
        nouns: &["globe", "world globe", "desk globe"],
        measure: "",
        made: &["cleaned", "restored"],
        variants: &["tin", "lighted", "desk", "raised relief"],
        materials: &["tin", "metal", "paper"],
        details: &["a brass meridian", "a wooden stand"],
        dims: &["A 12 inch globe on a 16 inch stand."],
        tags: &["globe", "world globe", "map", "office decor", "collectible"],
        price: (60, 300),
        weight: 5,
        vintage_ok: true,
        signature_titles: NO_TITLES,
    },
];

const OCC_HER: &[&str] = &[
    "gift for her",
    "birthday gift",
    "anniversary gift",
    "mother's day gift",
    "bridesmaid gift",
    "christmas gift",
    "graduation gift",
    "gift for mom",
];
const OCC_BOTH: &[&str] = &[
    "gift for him",
    "gift for her",
    "groomsmen gift",
    "father's day gift",
    "anniversary gift",
    "birthday gift",
    "christmas gift",
    "gift for dad",
    "graduation gift",
];
const OCC_HOME: &[&str] = &[
    "housewarming gift",
    "wedding gift",
    "christmas gift",
    "hostess gift",
    "gift for mom",
    "birthday gift",
    "new home gift",
];
const OCC_KIDS: &[&str] = &[
    "baby shower gift",
    "first birthday gift",
    "christmas gift",
    "new baby gift",
    "gift for kids",
    "birthday gift",
];

/// All categories, in the same order as [`CATEGORIES`].
const CATEGORY_DEFS: &[Category] = &[
    Category {
        slug: "jewelry",
        weight: 14,
        kinds: JEWELRY_KINDS,
        adjectives: &[
            "dainty",
            "delicate",
            "minimalist",
            "bold",
            "hammered",
            "tiny",
            "elegant",
            "everyday",
            "chunky",
            "organic",
        ],
        colors: &[
            "moss green",
            "blush pink",
            "ocean blue",
            "emerald green",
            "midnight black",
            "pearl white",
            "turquoise",
            "champagne",
            "lavender",
            "forest green",
        ],
        styles: &[
            "boho",
            "minimalist",
            "Art Deco",
            "celestial",
            "cottagecore",
            "modern",
            "bridal",
            "everyday",
        ],
        occasions: OCC_HER,
        made: &["hand-forged", "hand-stamped", "hand-hammered", "hand-cast"],
        notes: &[
            "Each piece is cut, soldered and polished by hand at my bench.",
            "I use recycled metals and ethically sourced stones.",
            "Small marks from the hammer and file are part of the charm.",
            "Every order is made fresh at my bench, never mass produced.",
        ],
        care: &[
            "Store it in the included pouch to slow tarnishing.",
            "Remove before swimming or showering.",
            "Polish gently with a soft cloth to restore the shine.",
            "Silver and brass darken over time; a quick polish brings back the shine.",
        ],
        tags: &[
            "jewelry",
            "handmade jewelry",
            "gift for her",
            "minimalist jewelry",
            "dainty jewelry",
            "sterling silver",
            "gold jewelry",
        ],
        focus: &[
            "dainty sterling silver jewelry",
            "everyday gold jewelry",
            "hammered metal jewelry",
            "gemstone rings and necklaces",
            "modern heirloom jewelry",
        ],
        trades: &[
            "Jewelry",
            "Metalsmith",
            "Silverworks",
            "Adornments",
            "Jewelry Studio",
            "Metalworks",
        ],
        things: &["Anvil", "Locket", "Forge", "Gemstone", "Charm"],
        related: &["accessories", "vintage-finds", "clothing"],
        heavy: false,
    },
    Category {
        slug: "bags-and-purses",
        weight: 9,
        kinds: BAG_KINDS,
        adjectives: &[
            "slim",
            "rugged",
            "minimalist",
            "classic",
            "sturdy",
            "compact",
            "roomy",
            "soft",
            "structured",
            "everyday",
        ],
        colors: &[
            "cognac",
            "tan",
            "black",
            "chestnut",
            "oxblood",
            "olive",
            "navy",
            "natural",
            "whiskey",
            "dark brown",
            "saddle brown",
            "burgundy",
        ],
        styles: &[
            "western",
            "minimalist",
            "heritage",
            "boho",
            "classic",
            "modern",
            "rugged",
            "workwear",
        ],
        occasions: OCC_BOTH,
        made: &["hand-stitched", "hand-sewn", "hand-cut", "hand-finished"],
        notes: &[
            "Every seam is stitched with heavy waxed thread using a traditional saddle stitch.",
            "All hardware is solid brass and built to last.",
            "Edges and seams are finished by hand.",
            "Hand stitching takes longer, but it outlasts machine stitching by years.",
        ],
        care: &[
            "Condition leather pieces every few months with a natural balm.",
            "Wipe clean with a damp cloth; avoid soaking.",
            "Store it stuffed with paper to keep its shape.",
            "Leather softens and darkens with use; canvas fades gently.",
        ],
        tags: &[
            "leather goods",
            "handmade bag",
            "leather bag",
            "purse",
            "everyday carry",
            "gift for him",
            "gift for her",
        ],
        focus: &[
            "hand-stitched leather goods",
            "leather wallets and bags",
            "waxed canvas bags",
            "everyday carry leather goods",
            "heirloom leather accessories",
        ],
        trades: &[
            "Leatherworks",
            "Leather Co.",
            "Bags",
            "Saddlery",
            "Leather Goods",
            "Leathercraft",
        ],
        things: &["Satchel", "Awl", "Saddle", "Tannery", "Buckle"],
        related: &["accessories", "clothing", "jewelry"],
        heavy: false,
    },
    Category {
        slug: "home-decor",
        weight: 10,
        kinds: HOME_KINDS,
        adjectives: &[
            "cozy",
            "rustic",
            "modern",
            "chunky",
            "textured",
            "woven",
            "oversized",
            "simple",
            "farmhouse",
            "soft",
        ],
        colors: &[
            "sage green",
            "terracotta",
            "oatmeal",
            "ivory",
            "rust",
            "mustard",
            "charcoal",
            "dusty rose",
            "navy",
            "cream",
            "natural",
            "forest green",
        ],
        styles: &[
            "boho",
            "Scandinavian",
            "farmhouse",
            "coastal",
            "japandi",
            "cottagecore",
            "modern",
            "rustic",
        ],
        occasions: OCC_HOME,
        made: &["hand-woven", "hand-knitted", "hand-knotted", "hand-sewn"],
        notes: &[
            "Every piece is made by hand from natural fibers and materials.",
            "I work in small batches to keep waste low.",
            "Colors and textures vary a little from piece to piece.",
            "Designed to add warmth and texture to any room.",
        ],
        care: &[
            "Spot clean or hand wash cold and lay flat to dry.",
            "Shake out gently to refresh.",
            "Keep out of direct sunlight to prevent fading.",
            "The cover is removable; the insert is not included.",
        ],
        tags: &[
            "home decor",
            "boho decor",
            "living room",
            "farmhouse decor",
            "housewarming gift",
            "cozy home",
        ],
        focus: &[
            "woven wall hangings and cozy textiles",
            "slow-made home goods",
            "macrame and fiber art",
            "knitted blankets and pillows",
            "plant hangers and planters",
        ],
        trades: &[
            "Home",
            "Home Goods",
            "Interiors",
            "Living",
            "Homestead",
            "House",
        ],
        things: &["Hearth", "Nest", "Loom", "Porch", "Parlor"],
        related: &["ceramics-and-pottery", "candles", "woodworking", "art"],
        heavy: true,
    },
    Category {
        slug: "clothing",
        weight: 9,
        kinds: CLOTHING_KINDS,
        adjectives: &[
            "cozy",
            "chunky",
            "oversized",
            "soft",
            "lightweight",
            "relaxed",
            "warm",
            "cropped",
            "slouchy",
            "classic",
        ],
        colors: &[
            "oatmeal",
            "heather grey",
            "charcoal",
            "mustard",
            "forest green",
            "cream",
            "navy",
            "rust",
            "lavender",
            "black",
            "burgundy",
            "sky blue",
        ],
        styles: &[
            "Nordic",
            "cottagecore",
            "boho",
            "minimalist",
            "fisherman",
            "preppy",
            "streetwear",
            "workwear",
        ],
        occasions: OCC_BOTH,
        made: &["hand-knitted", "hand-sewn", "hand-dyed", "knitted"],
        notes: &[
            "Made in small batches from natural fibers.",
            "The yarn and fabric come from small family mills.",
            "Each garment is finished by hand, down to the last button.",
            "Designed to be worn, washed and loved for years.",
        ],
        care: &[
            "Hand wash cold and lay flat to dry.",
            "Do not tumble dry.",
            "Wool is naturally odor resistant, so it rarely needs washing.",
            "Machine wash cold on a gentle cycle.",
        ],
        tags: &[
            "knitwear",
            "hand knit",
            "slow fashion",
            "womens clothing",
            "unisex",
            "winter wear",
            "knitted",
        ],
        focus: &[
            "hand-knitted sweaters and hats",
            "slow fashion in natural fibers",
            "linen clothing",
            "cozy knitwear",
            "screen printed tees",
        ],
        trades: &[
            "Knitwear",
            "Threads",
            "Apparel",
            "Stitchery",
            "Clothing Co.",
            "Knits",
        ],
        things: &["Thimble", "Spindle", "Needle", "Skein", "Loom"],
        related: &["accessories", "jewelry", "bags-and-purses"],
        heavy: false,
    },
    Category {
        slug: "art",
        weight: 8,
        kinds: ART_KINDS,
        adjectives: &[
            "original",
            "abstract",
            "botanical",
            "moody",
            "bright",
            "minimalist",
            "whimsical",
            "serene",
            "bold",
            "coastal",
        ],
        colors: &[
            "blue",
            "green",
            "ochre",
            "pastel",
            "black and white",
            "earth tones",
            "teal",
            "warm pink",
            "muted tones",
            "gold leaf",
        ],
        styles: &[
            "abstract",
            "botanical",
            "landscape",
            "coastal",
            "mid-century modern",
            "Japanese",
            "folk art",
            "impressionist",
        ],
        occasions: OCC_HOME,
        made: &["hand-painted", "hand-printed", "hand-drawn", "hand-pulled"],
        notes: &[
            "Every piece is made by hand in my home studio.",
            "Colors may look slightly different on screen than on paper.",
            "Each piece is signed by the artist.",
            "Painting and printmaking are how I make sense of the landscape around me.",
        ],
        care: &[
            "Printed on acid-free archival paper with pigment inks.",
            "The frame is not included.",
            "Signed on the back by the artist.",
            "Keep out of direct sunlight to preserve the colors.",
        ],
        tags: &[
            "wall art",
            "art print",
            "original art",
            "home decor",
            "gallery wall",
            "artwork",
        ],
        focus: &[
            "original paintings and prints",
            "botanical art prints",
            "hand-pulled linocuts",
            "coastal landscape paintings",
            "custom pet portraits",
        ],
        trades: &[
            "Art Studio",
            "Prints",
            "Gallery",
            "Studio",
            "Art House",
            "Press",
        ],
        things: &["Easel", "Palette", "Brush", "Canvas", "Sketchbook"],
        related: &["paper-goods", "home-decor", "ceramics-and-pottery"],
        heavy: false,
    },
    Category {
        slug: "ceramics-and-pottery",
        weight: 9,
        kinds: CERAMICS_KINDS,
        adjectives: &[
            "speckled",
            "rustic",
            "minimalist",
            "large",
            "small",
            "organic",
            "textured",
            "modern",
            "sturdy",
            "glossy",
        ],
        colors: &[
            "speckled white",
            "celadon",
            "sage green",
            "cobalt blue",
            "matte black",
            "oatmeal",
            "rust",
            "sea foam",
            "honey",
            "charcoal",
            "sky blue",
            "mustard",
        ],
        styles: &[
            "japandi",
            "rustic",
            "modern",
            "wabi-sabi",
            "farmhouse",
            "Scandinavian",
            "coastal",
            "minimalist",
        ],
        occasions: OCC_HOME,
        made: &[
            "wheel-thrown",
            "hand-built",
            "hand-thrown",
            "hand-glazed",
            "hand-painted",
        ],
        notes: &[
            "Made, trimmed and glazed by hand in my home studio.",
            "Fired to cone 6, so it is sturdy enough for everyday use.",
            "Glazes pool and break differently on every piece, so yours will vary a little from the photos.",
            "Glazing is done by dipping, which leaves a raw clay foot.",
        ],
        care: &[
            "Dishwasher and microwave safe.",
            "Hand washing will keep the glaze looking its best.",
            "Food safe and lead free.",
            "Not suitable for the oven or stovetop.",
        ],
        tags: &[
            "pottery",
            "ceramics",
            "stoneware",
            "handmade pottery",
            "kitchen",
            "wheel thrown",
        ],
        focus: &[
            "wheel-thrown stoneware",
            "functional pottery for everyday use",
            "speckled mugs and bowls",
            "hand-built ceramics",
            "small-batch porcelain",
        ],
        trades: &[
            "Ceramics",
            "Pottery",
            "Clayworks",
            "Kiln",
            "Pottery Studio",
            "Clay Co.",
        ],
        things: &["Kiln", "Wheel", "Glaze", "Pot", "Clay"],
        related: &["home-decor", "candles", "art"],
        heavy: true,
    },
    Category {
        slug: "candles",
        weight: 7,
        kinds: CANDLE_KINDS,
        adjectives: &[
            "cozy",
            "clean-burning",
            "small-batch",
            "natural",
            "long-burning",
            "rustic",
            "minimalist",
            "large",
            "travel-size",
            "luxe",
        ],
        colors: &[
            "amber",
            "ivory",
            "sage green",
            "charcoal",
            "blush",
            "cream",
            "terracotta",
            "smoke grey",
            "natural",
            "black",
        ],
        styles: &[
            "apothecary",
            "farmhouse",
            "minimalist",
            "cottagecore",
            "boho",
            "hygge",
            "modern",
            "rustic",
        ],
        occasions: OCC_HOME,
        made: &["hand-poured", "hand-dipped", "hand-rolled"],
        notes: &[
            "Everything is made in small batches in my kitchen studio.",
            "Our candles are hand-poured in small batches and cured for two weeks.",
            "We only use phthalate-free fragrance oils and natural waxes.",
            "Candle making started as a hobby in my kitchen.",
        ],
        care: &[
            "Trim the wick to 1/4 inch before each burn.",
            "Let the wax melt to the edges on the first burn to avoid tunneling.",
            "Never leave a burning candle unattended.",
            "Burn for no more than 4 hours at a time.",
        ],
        tags: &[
            "candles",
            "candle",
            "soy wax",
            "home fragrance",
            "housewarming gift",
            "hygge",
            "aromatherapy",
        ],
        focus: &[
            "hand-poured soy candles",
            "beeswax candles",
            "small-batch home fragrance",
            "scented candles and wax melts",
            "clean-burning candles",
        ],
        trades: &[
            "Candle Co.",
            "Candleworks",
            "Wick & Wax",
            "Apothecary",
            "Candles",
            "Chandlery",
        ],
        things: &["Wick", "Flame", "Lantern", "Ember", "Match"],
        related: &["home-decor", "ceramics-and-pottery", "paper-goods"],
        heavy: false,
    },
    Category {
        slug: "toys-and-games",
        weight: 6,
        kinds: TOY_KINDS,
        adjectives: &[
            "heirloom",
            "eco-friendly",
            "soft",
            "colorful",
            "cuddly",
            "classic",
            "tiny",
            "gentle",
            "sturdy",
            "playful",
        ],
        colors: &[
            "rainbow",
            "natural",
            "pastel",
            "red",
            "blue",
            "mint",
            "yellow",
            "grey",
            "pink",
            "multicolor",
        ],
        styles: &[
            "Montessori",
            "Waldorf",
            "woodland",
            "folk",
            "Scandinavian",
            "heirloom",
        ],
        occasions: OCC_KIDS,
        made: &[
            "hand-crocheted",
            "hand-carved",
            "hand-sewn",
            "hand-knitted",
            "hand-painted",
        ],
        notes: &[
            "Every toy is made by hand in my home studio.",
            "Only child-safe, non-toxic finishes are used.",
            "Made to be played with, passed down and played with again.",
            "Each one is a little different, which is part of the charm.",
        ],
        care: &[
            "Finished with a child-safe beeswax and oil polish.",
            "Surface wash only.",
            "Not suitable for children under 3 because of small parts.",
            "Tested to meet toy safety standards.",
        ],
        tags: &[
            "toys",
            "kids gift",
            "baby gift",
            "heirloom toy",
            "eco friendly",
            "nursery",
        ],
        focus: &[
            "heirloom wooden toys",
            "crocheted stuffed animals",
            "Montessori toys",
            "family board games",
            "cloth dolls",
        ],
        trades: &[
            "Toy Co.",
            "Toys",
            "Playthings",
            "Toy Workshop",
            "Games",
            "Toymakers",
        ],
        things: &["Kite", "Spinning Top", "Marble", "Rocking Horse", "Puzzle"],
        related: &["woodworking", "paper-goods", "clothing"],
        heavy: false,
    },
    Category {
        slug: "paper-goods",
        weight: 6,
        kinds: PAPER_KINDS,
        adjectives: &[
            "hand-bound",
            "letterpress",
            "recycled",
            "minimalist",
            "floral",
            "botanical",
            "dotted",
            "pocket-size",
            "whimsical",
            "illustrated",
        ],
        colors: &[
            "kraft",
            "ivory",
            "sage",
            "blush",
            "navy",
            "black",
            "white",
            "gold foil",
            "watercolor",
            "terracotta",
        ],
        styles: &[
            "botanical",
            "minimalist",
            "boho",
            "modern",
            "rustic",
            "whimsical",
            "classic",
            "calligraphy",
        ],
        occasions: OCC_HER,
        made: &[
            "hand-bound",
            "letterpress-printed",
            "hand-lettered",
            "hand-illustrated",
        ],
        notes: &[
            "Designed and printed in our small studio.",
            "Printing is done one sheet at a time, so small variations are part of the charm.",
            "We use recycled and tree-free papers wherever we can.",
            "Designed and illustrated in-house from original watercolor paintings.",
        ],
        care: &[
            "Printed on 100% recycled stock.",
            "Keep away from damp to keep the paper crisp.",
            "Packed flat in a rigid mailer so it arrives without bends.",
            "Plastic-free packaging, always.",
        ],
        tags: &[
            "stationery",
            "paper goods",
            "snail mail",
            "letterpress",
            "journaling",
            "cards",
        ],
        focus: &[
            "letterpress cards and stationery",
            "hand-bound journals",
            "illustrated stickers and prints",
            "wedding stationery",
            "planners and paper goods",
        ],
        trades: &[
            "Paper Co.",
            "Press",
            "Stationery",
            "Paperie",
            "Letterpress",
            "Bindery",
        ],
        things: &["Quill", "Inkwell", "Envelope", "Bindery", "Postbox"],
        related: &["art", "toys-and-games", "home-decor"],
        heavy: false,
    },
    Category {
        slug: "woodworking",
        weight: 7,
        kinds: WOOD_KINDS,
        adjectives: &[
            "rustic",
            "heirloom",
            "live edge",
            "modern",
            "sturdy",
            "oiled",
            "minimalist",
            "large",
            "hand-carved",
            "solid",
        ],
        colors: &[
            "natural",
            "dark walnut",
            "honey",
            "ebonized black",
            "light oak",
            "charred black",
            "whitewashed",
            "two-tone",
            "amber",
            "chestnut",
        ],
        styles: &[
            "farmhouse",
            "Shaker",
            "modern",
            "Scandinavian",
            "rustic",
            "craftsman",
            "Japanese",
            "mid-century modern",
        ],
        occasions: OCC_HOME,
        made: &["hand-carved", "hand-turned", "hand-shaped", "hand-finished"],
        notes: &[
            "Cut, shaped and sanded by hand from solid hardwood.",
            "Tool marks are left on purpose; sanding them away would hide the character of the wood.",
            "The wood comes from local storm-fallen trees.",
            "Finished with several coats of oil and wax.",
        ],
        care: &[
            "Wipe clean with a damp cloth and dry right away.",
            "Re-oil every few months with a food-safe oil or board butter.",
            "Finished with a food-safe blend of beeswax and oil.",
            "Keep it out of the dishwasher and away from standing water.",
        ],
        tags: &[
            "woodworking",
            "wood",
            "wooden",
            "kitchen",
            "rustic decor",
            "housewarming gift",
        ],
        focus: &[
            "cutting boards and kitchen woodenware",
            "hand-carved spoons",
            "small-batch furniture",
            "heirloom wooden boxes",
            "live edge shelves",
        ],
        trades: &[
            "Woodworks",
            "Woodshop",
            "Timber Co.",
            "Joinery",
            "Wood Co.",
            "Woodcraft",
        ],
        things: &["Lathe", "Plane", "Chisel", "Workbench", "Sawhorse"],
        related: &["home-decor", "toys-and-games", "accessories"],
        heavy: true,
    },
    Category {
        slug: "accessories",
        weight: 7,
        kinds: ACCESSORY_KINDS,
        adjectives: &[
            "classic",
            "minimalist",
            "rugged",
            "everyday",
            "slim",
            "handy",
            "cute",
            "bold",
            "durable",
            "simple",
        ],
        colors: &[
            "cognac",
            "black",
            "tan",
            "navy",
            "olive",
            "burgundy",
            "mustard",
            "plaid",
            "floral",
            "natural",
            "dark brown",
            "forest green",
        ],
        styles: &[
            "western",
            "preppy",
            "minimalist",
            "boho",
            "classic",
            "workwear",
            "heritage",
            "modern",
        ],
        occasions: OCC_BOTH,
        made: &["hand-stitched", "hand-sewn", "hand-finished"],
        notes: &[
            "Hand-stitched and finished in my small workshop.",
            "Made in small batches with solid brass hardware.",
            "Cut and sewn from deadstock fabric to reduce waste.",
            "Stitching is done by hand with waxed linen thread.",
        ],
        care: &[
            "Wipe clean with a damp cloth.",
            "Condition leather pieces a few times a year.",
            "Spot clean only.",
            "Comes in a cotton gift bag.",
        ],
        tags: &[
            "accessories",
            "everyday carry",
            "gift for him",
            "gift for her",
            "leather goods",
            "stocking stuffer",
        ],
        focus: &[
            "leather accessories",
            "everyday carry goods",
            "hair accessories",
            "wallets, belts and key fobs",
            "dapper neckwear",
        ],
        trades: &[
            "Goods",
            "Supply Co.",
            "Accessories",
            "Outfitters",
            "Mercantile",
            "Dry Goods",
        ],
        things: &["Button", "Buckle", "Pocket", "Satchel", "Keyring"],
        related: &["bags-and-purses", "jewelry", "clothing"],
        heavy: false,
    },
    Category {
        slug: "vintage-finds",
        weight: 9,
        kinds: VINTAGE_KINDS,
        adjectives: &[
            "rare",
            "charming",
            "quirky",
            "beautiful",
            "sturdy",
            "unusual",
            "working",
            "decorative",
            "collectible",
            "lovely",
        ],
        colors: &[
            "green",
            "avocado green",
            "harvest gold",
            "burnt orange",
            "brown",
            "cream",
            "red",
            "turquoise",
            "amber",
            "brass",
            "pink",
            "teal",
        ],
        styles: VINTAGE_STYLES,
        occasions: OCC_HOME,
        made: &["restored", "cleaned"],
        notes: &[
            "Cleaned and tested before listing.",
            "We photograph every piece in natural light.",
        ],
        care: &[
            "Please review all photos, as they are part of the description.",
            "Measurements are approximate.",
            "Cleaned gently; we do not restore or repaint.",
            "Sold as is.",
        ],
        tags: &[
            "vintage",
            "antique",
            "retro",
            "collectible",
            "vintage decor",
            "mid century",
            "estate find",
        ],
        focus: &[
            "mid-century home goods",
            "retro kitchenware and curiosities",
            "antique treasures and oddities",
            "secondhand cameras, records and lamps",
            "vintage barware and glass",
        ],
        trades: &[
            "Vintage",
            "Antiques",
            "Finds",
            "Vintage Co.",
            "Curiosities",
            "Salvage",
        ],
        things: &["Attic", "Trunk", "Curio", "Cabinet", "Flea"],
        related: &[
            "home-decor",
            "jewelry",
            "clothing",
            "ceramics-and-pottery",
            "art",
        ],
        heavy: true,
    },
];

/// Index of the always-vintage category.
const VINTAGE_CATEGORY: usize = 11;

// ---------------------------------------------------------------------------
// Title and description templates
// ---------------------------------------------------------------------------

const HANDMADE_TITLES: &[&str] = &[
    "{maker} {material} {noun}{sep}{variant} in {color}",
    "{material} {noun} with {detail}",
    "{adj} {color} {noun}, {maker} {material}",
    "{maker} {noun}{sep}{material}{sep}{occasion}",
    "{noun}{sep}{maker} {material} {variant}",
    "{style} {material} {noun}, {occasion}",
    "{color} {material} {noun}",
    "{maker} {adj} {noun} with {detail}",
    "{variant} {noun} in {color} {material}{sep}{maker}",
    "{adj} {maker} {noun}{sep}{style}{sep}{color}",
    "{maker} {variant} {noun}, {material}, {occasion}",
    "{maker} {noun}, {material} {noun2}, {variant} {noun}, {occasion}",
    "{made} {material} {noun}{sep}{adj}, {style}, {color}",
    "{noun} in {color}{sep}{made} {material}",
    "personalized {maker} {noun}{sep}{variant} {noun2} in {material}{sep}{occasion}",
];

const VINTAGE_TITLES: &[&str] = &[
    "{era} {vintage} {material} {noun}, {style} {color}",
    "{vintage} {noun}{sep}{era} {material}",
    "{vintage} {era} {color} {noun}",
    "{vintage} {material} {noun}, circa {year}",
    "{vintage} {adj} {material} {noun} ({era})",
    "{era} {material} {noun} with {detail}{sep}{vintage}",
    "{vintage} {color} {material} {noun}{sep}{style} {noun2}",
    "{style} {vintage} {noun}, {era}, {material}",
    "{vintage} {variant} {noun}{sep}{era}",
    "{era} {noun} in {color}, {vintage} {material}",
];

const HANDMADE_OPENINGS: &[&str] = &[
    "{this} {adj} {noun} is {made} in my studio in {town} from {material}.",
    "{maker} {noun} in {color}, {made} one at a time.",
    "Meet our {style} {noun}: {made} from {material} and finished by hand.",
    "{this} {noun} is made to order, so no two are exactly alike.",
    "{a} {maker} {noun} with {detail}, made in small batches.",
    "I started making these at my kitchen table, and {this} {noun} is still {made} the same way.",
    "{a} {adj} {maker} {noun}, made to be used and loved every day.",
    "{a} {adj} {noun} in {material}, {made} by me in {town}.",
];

const VINTAGE_OPENINGS: &[&str] = &[
    "{a} genuine {era} {noun} in {color}, {vintage} and full of character.",
    "{vintage} {material} {noun} dating to around {year}.",
    "Found at an estate sale near {town}, {this} {era} {noun} is a real survivor.",
    "Beautiful {vintage} {noun} from {period}, {material} with {detail}.",
    "{this} {vintage} {noun} was made in {period} and has been cleaned and checked.",
    "{a} {style} {noun} in {material}, a true {vintage} piece from {period}.",
];

const CONDITION_NOTES: &[&str] = &[
    "In very good vintage condition with light wear consistent with age.",
    "Good condition overall; there is a small chip on the base, shown in the last photo.",
    "Some patina and surface scratches, as expected for its age.",
    "Excellent condition, no cracks or repairs.",
    "Shows honest wear and a lovely patina.",
    "Sold as found; please review all photos, as they are part of the description.",
    "Secondhand and well loved, with minor fading.",
];

const PROVENANCE_NOTES: &[&str] = &[
    "Sourced from an estate sale in {town}.",
    "It came from a family collection we bought last spring.",
    "We clean and photograph every piece ourselves.",
    "One of a kind; once it is gone, it is gone.",
    "Picked at a flea market outside {town}.",
];

const VINTAGE_SHIPPING: &[&str] = &[
    "Carefully wrapped in recycled paper and double boxed.",
    "Ships within 2 business days, fully insured.",
    "Packed with plenty of padding; local pickup is available in {town}.",
];

const OCCASION_SENTENCES: &[&str] = &[
    "Makes a lovely {occasion}.",
    "A thoughtful {occasion} that will last for years.",
    "Perfect as {a_occasion}.",
    "Looking for {a_occasion}? This is a favorite.",
];

const SHIPPING_NOTES: &[&str] = &[
    "Ready to ship in 1-2 business days.",
    "Made to order; please allow 1-2 weeks before it ships.",
    "Ships in a recycled gift box with a handwritten note.",
    "Ships from {town} in plastic-free packaging.",
    "Combined shipping is available on multiple items.",
    "Need it by a certain date? Send me a message before you order.",
    "Gift wrapping is available at checkout.",
];

const SHOP_INTROS: &[&str] = &[
    "{name} is a one-person studio in {town}, making {focus}.",
    "We are a small family workshop in {town}, making {focus} since {year}.",
    "Hi, I'm {first}! I make {focus} from my home studio in {town}.",
    "{name} started in {year} as a weekend hobby and is now a full-time home for {focus}.",
    "{focus}, made slowly and carefully in {town}.",
];

const VINTAGE_SHOP_INTROS: &[&str] = &[
    "{name} is a little vintage shop in {town} full of {focus}.",
    "Hand-picked finds from {period} and beyond, sourced from estate sales and flea markets around {town}.",
    "Curated vintage and antique goods, cleaned, photographed and packed by {first} in {town}.",
    "{first} has been hunting for {focus} around {town} since {year}.",
];

const SHOP_MIDDLES: &[&str] = &[
    "Everything is {made} in small batches.",
    "Every piece is made to order, so please allow a few days before it ships.",
    "Custom orders and personalization are always welcome.",
    "We use recycled packaging and plastic-free shipping materials.",
    "Most of our materials come from small, local suppliers.",
];

const VINTAGE_SHOP_MIDDLES: &[&str] = &[
    "Every item is cleaned, checked and photographed in natural light.",
    "Condition notes are honest; please look closely at the photos.",
    "New finds are listed every Friday.",
];

const SHOP_ENDS: &[&str] = &[
    "Thanks for supporting small makers!",
    "Orders ship within 3 business days from {town}.",
    "New pieces are listed every month.",
    "We ship worldwide.",
    "Questions? Send a message any time.",
];

// ---------------------------------------------------------------------------
// Shop names
// ---------------------------------------------------------------------------

const NATURE_WORDS: &[&str] = &[
    "Juniper", "Ash", "Moss", "Fern", "Willow", "Birch", "Hazel", "Clover", "Sage", "Thistle",
    "Bramble", "Cedar", "Alder", "Rowan", "Linden", "Marigold", "Wren", "Sparrow", "Heron",
    "Otter", "Meadow", "Pine", "Oak", "Ember", "River", "Harbor", "Stone", "Copper", "Saffron",
    "Indigo", "Poppy", "Laurel", "Acorn", "Maple", "Elm", "Tansy", "Yarrow", "Bluebell",
    "Hawthorn", "Larch", "Quince", "Sorrel",
];
const LANDFORMS: &[&str] = &[
    "Hollow", "Ridge", "Creek", "Hill", "Field", "Grove", "Glen", "Brook", "Lane", "Bay", "Point",
    "Valley", "Wood", "Row", "Harbor", "Knoll", "Bend", "Orchard",
];
const NAME_ADJECTIVES: &[&str] = &[
    "Copper",
    "Brass",
    "Little",
    "Crooked",
    "Wandering",
    "Golden",
    "Rusty",
    "Quiet",
    "Hidden",
    "Velvet",
    "Painted",
    "Humble",
    "Honest",
    "Wild",
    "Silver",
    "Salty",
    "Sleepy",
    "Clever",
    "Blue",
    "Merry",
    "Northern",
    "Tin",
];
const ANIMALS: &[&str] = &[
    "Fox", "Hare", "Wren", "Magpie", "Otter", "Heron", "Badger", "Owl", "Moth", "Crow", "Bear",
    "Finch", "Stag", "Bee", "Raven", "Swallow",
];
const NAME_SUFFIXES: &[&str] = &[
    "wood", "line", "stead", "field", "well", "croft", "brook", "ford",
];
const STREETS: &[&str] = &[
    "Mill", "Church", "Orchard", "Water", "Bridge", "Market", "Union", "Front", "King", "Chapel",
    "Cannery", "Depot",
];
const NAME_TIEBREAKERS: &[&str] = &[
    "Studio",
    "Workshop",
    "& Co.",
    "North",
    "West",
    "Collective",
    "Atelier",
    "House",
    "Makers",
    "Supply",
];

// ---------------------------------------------------------------------------
// Shop planning
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Casing {
    Title,
    Sentence,
    Lower,
}

/// How a shop writes: its favourite synonyms, title habits and tag habits.
#[derive(Debug, Clone)]
struct Voice {
    prefs: [u8; 32],
    /// Per-mille probability of using the preferred synonym.
    loyalty: usize,
    casing: Casing,
    sep: &'static str,
    favorite_titles: [usize; 3],
    favorite_vintage_titles: [usize; 2],
    tag_range: (usize, usize),
    max_sentences: usize,
}

impl Voice {
    fn new(rng: &mut SplitMix64) -> Self {
        let mut prefs = [0_u8; 32];
        for chunk in prefs.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
        }
        let casing = match rng.below(100) {
            0..=54 => Casing::Title,
            55..=94 => Casing::Sentence,
            _ => Casing::Lower,
        };
        let tag_range = match rng.below(100) {
            0..=5 => (0, 3),
            6..=45 => (4, 9),
            _ => (10, 13),
        };
        Self {
            prefs,
            loyalty: 550 + rng.below(400),
            casing,
            sep: rng.pick(SEPARATORS),
            favorite_titles: [
                rng.below(HANDMADE_TITLES.len()),
                rng.below(HANDMADE_TITLES.len()),
                rng.below(HANDMADE_TITLES.len()),
            ],
            favorite_vintage_titles: [
                rng.below(VINTAGE_TITLES.len()),
                rng.below(VINTAGE_TITLES.len()),
            ],
            tag_range,
            max_sentences: 2 + rng.below(3),
        }
    }

    /// Picks from a synonym group, usually the shop's favourite word.
    fn choose(
        &self,
        rng: &mut SplitMix64,
        group: usize,
        items: &'static [&'static str],
    ) -> &'static str {
        if rng.chance(self.loyalty) {
            let pref = usize::from(self.prefs[group % self.prefs.len()]);
            items[pref % items.len()]
        } else {
            rng.pick(items)
        }
    }

    /// Expands `{leather}`, `{silver}` and `{gold}` into the shop's word.
    fn material(&self, rng: &mut SplitMix64, raw: &'static str) -> &'static str {
        match raw {
            "{leather}" => self.choose(rng, G_LEATHER, LEATHER),
            "{silver}" => self.choose(rng, G_SILVER, SILVER),
            "{gold}" => self.choose(rng, G_GOLD, GOLD),
            other => other,
        }
    }
}

struct ShopPlan {
    primary: usize,
    secondary: [usize; 2],
    /// Per-mille chance that a listing outside `vintage-finds` is vintage.
    vintage_rate: usize,
    voice: Voice,
    town: &'static str,
    /// Relative size of the shop's inventory.
    weight: usize,
}

fn category_index(slug: &str) -> Option<usize> {
    CATEGORY_DEFS.iter().position(|c| c.slug == slug)
}

fn plan_shop(rng: &mut SplitMix64) -> ShopPlan {
    let primary = rng.weighted_index(CATEGORY_DEFS, |c| c.weight);
    let related = CATEGORY_DEFS[primary].related;
    let mut secondary = [primary; 2];
    for slot in &mut secondary {
        *slot = category_index(rng.pick(related)).unwrap_or(primary);
    }
    if rng.chance(150) {
        // A few shops sell a little of everything.
        secondary[1] = rng.below(CATEGORY_DEFS.len());
    }
    let vintage_rate = if primary == VINTAGE_CATEGORY {
        850
    } else {
        match rng.below(100) {
            0..=39 => 0,
            40..=69 => 80 + rng.below(120),
            _ => 350 + rng.below(250),
        }
    };
    let mut weight = 1 + rng.below(8);
    if rng.chance(150) {
        weight *= 4;
    } else if rng.chance(50) {
        weight *= 10;
    }
    ShopPlan {
        primary,
        secondary,
        vintage_rate,
        voice: Voice::new(rng),
        town: rng.pick(TOWNS),
        weight,
    }
}

fn shop_name(rng: &mut SplitMix64, category: &Category, owner: &str) -> String {
    let trade = rng.pick(category.trades);
    match rng.below(8) {
        0 | 1 => {
            let first = rng.pick(NATURE_WORDS);
            let mut second = rng.pick(NATURE_WORDS);
            if second == first {
                second = rng.pick(LANDFORMS);
            }
            format!("{first} & {second} {trade}")
        }
        2 => format!(
            "The {} {}",
            rng.pick(NAME_ADJECTIVES),
            rng.pick(category.things)
        ),
        3 => format!("{} {} {trade}", rng.pick(NATURE_WORDS), rng.pick(LANDFORMS)),
        4 => format!("{owner}'s {trade}"),
        5 => {
            let stem = rng.pick(NATURE_WORDS);
            let suffix = rng.pick(NAME_SUFFIXES);
            format!("{stem}{suffix} {trade}")
        }
        6 => format!(
            "{} {} {trade}",
            rng.pick(NAME_ADJECTIVES),
            rng.pick(ANIMALS)
        ),
        _ => format!("{} Street {trade}", rng.pick(STREETS)),
    }
}

fn unique_shop_name(
    rng: &mut SplitMix64,
    category: &Category,
    owner: &str,
    used: &mut HashSet<String>,
) -> String {
    let mut candidate = shop_name(rng, category, owner);
    for _ in 0..8 {
        if !used.contains(&candidate.to_lowercase()) {
            break;
        }
        candidate = shop_name(rng, category, owner);
    }
    let base = candidate.clone();
    let mut attempt = 0_usize;
    while used.contains(&candidate.to_lowercase()) {
        candidate = match NAME_TIEBREAKERS.get(attempt) {
            Some(word) => format!("{base} {word}"),
            None => format!("{base} {}", attempt + 2 - NAME_TIEBREAKERS.len()),
        };
        attempt += 1;
    }
    let candidate = clamp_chars(&candidate, 100);
    used.insert(candidate.to_lowercase());
    candidate
}

fn build_shop(
    rng: &mut SplitMix64,
    index: usize,
    plan: &ShopPlan,
    used_names: &mut HashSet<String>,
) -> SeedShop {
    let category = &CATEGORY_DEFS[plan.primary];
    let owner = rng.pick(FIRST_NAMES);
    let name = unique_shop_name(rng, category, owner, used_names);
    let is_vintage_shop = plan.primary == VINTAGE_CATEGORY;
    let era = pick_era(rng);
    let slots = ShopSlots {
        name: &name,
        town: plan.town,
        focus: rng.pick(category.focus),
        first: owner,
        year: (2005 + rng.below(20)).to_string(),
        made: rng.pick(category.made),
        period: era.def.period,
    };
    let (intros, middles) = if is_vintage_shop {
        (VINTAGE_SHOP_INTROS, VINTAGE_SHOP_MIDDLES)
    } else {
        (SHOP_INTROS, SHOP_MIDDLES)
    };
    let sentence_count = 1 + rng.below(3);
    let mut sentences = vec![render(rng.pick(intros), |k| slots.get(k))];
    if sentence_count >= 2 {
        sentences.push(render(rng.pick(middles), |k| slots.get(k)));
    }
    if sentence_count >= 3 {
        sentences.push(render(rng.pick(SHOP_ENDS), |k| slots.get(k)));
    }
    let description = clamp_chars(&join_sentences(&sentences), 5000);

    let (base_choices, extra_choices): (&[i64], &[i64]) = if category.heavy {
        (
            &[0, 595, 795, 895, 1095, 1250, 1500, 1800, 2000],
            &[0, 200, 300, 400, 500, 600, 800],
        )
    } else {
        (
            &[0, 0, 250, 350, 395, 450, 500, 595, 695],
            &[0, 0, 100, 150, 200, 250, 300],
        )
    };
    let base_shipping_cents = rng.pick(base_choices);
    let per_extra_item_cents = if base_shipping_cents == 0 {
        0
    } else {
        (rng.pick(extra_choices)).min(base_shipping_cents)
    };

    SeedShop {
        index,
        name,
        description,
        base_shipping_cents,
        per_extra_item_cents,
        id_bytes: rng.bytes16(),
        owner_index: index,
    }
}

struct ShopSlots<'a> {
    name: &'a str,
    town: &'static str,
    focus: &'static str,
    first: &'static str,
    year: String,
    made: &'static str,
    period: &'static str,
}

impl ShopSlots<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        Some(match key {
            "name" => self.name,
            "town" => self.town,
            "focus" => self.focus,
            "first" => self.first,
            "year" => &self.year,
            "made" => self.made,
            "period" => self.period,
            _ => return None,
        })
    }
}

/// Splits `total` products over the shops in proportion to their weights,
/// giving each shop one product first when there are enough to go around.
fn allocate_products(plans: &[ShopPlan], total: usize) -> Vec<usize> {
    if plans.is_empty() {
        return Vec::new();
    }
    let base = usize::from(total >= plans.len());
    let remaining = (total - base * plans.len()) as u128;
    let weight_sum: u128 = plans.iter().map(|p| p.weight as u128).sum();
    let mut cumulative = 0_u128;
    let mut assigned_before = 0_u128;
    plans
        .iter()
        .map(|plan| {
            cumulative += plan.weight as u128;
            let assigned = remaining * cumulative / weight_sum;
            let share = assigned - assigned_before;
            assigned_before = assigned;
            base + share as usize
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------

struct Era {
    def: &'static EraDef,
    word: &'static str,
    year: i64,
}

fn pick_era(rng: &mut SplitMix64) -> Era {
    let def = &ERAS[rng.weighted_index(ERAS, |e| e.weight)];
    Era {
        def,
        word: rng.pick(def.words),
        year: def.decade + rng.range(0, 9),
    }
}

/// Every value a title or description template can refer to.
struct ProductSlots {
    maker: &'static str,
    vintage: &'static str,
    era: &'static str,
    period: &'static str,
    year: String,
    material: &'static str,
    noun: &'static str,
    noun2: &'static str,
    variant: &'static str,
    color: &'static str,
    adj: &'static str,
    style: &'static str,
    detail: &'static str,
    occasion: &'static str,
    a_occasion: String,
    made: &'static str,
    town: &'static str,
    sep: &'static str,
    this: String,
    a: String,
}

impl ProductSlots {
    fn get(&self, key: &str) -> Option<&str> {
        Some(match key {
            "maker" => self.maker,
            "vintage" => self.vintage,
            "era" => self.era,
            "period" => self.period,
            "year" => &self.year,
            "material" => self.material,
            "noun" => self.noun,
            "noun2" => self.noun2,
            "variant" => self.variant,
            "color" => self.color,
            "adj" => self.adj,
            "style" => self.style,
            "detail" => self.detail,
            "occasion" => self.occasion,
            "a_occasion" => &self.a_occasion,
            "made" => self.made,
            "town" => self.town,
            "sep" => self.sep,
            "this" => &self.this,
            "a" => &self.a,
            _ => return None,
        })
    }
}

/// Percentage of a shop's listings in its primary and secondary categories.
const CATEGORY_SPLIT: [usize; 3] = [72, 18, 10];

fn choose_category(rng: &mut SplitMix64, plan: &ShopPlan) -> usize {
    let roll = rng.below(100);
    if roll < CATEGORY_SPLIT[0] {
        plan.primary
    } else if roll < CATEGORY_SPLIT[0] + CATEGORY_SPLIT[1] {
        plan.secondary[0]
    } else {
        plan.secondary[1]
    }
}

/// Target share of vintage listings, in percent.
const VINTAGE_TARGET_PERCENT: u128 = 25;

/// Scales every shop's vintage rate so that, given how many products each
/// shop actually gets, about [`VINTAGE_TARGET_PERCENT`] of the catalog is
/// vintage. Without this the share swings with whichever shops happen to be
/// large. Integer arithmetic only, so it is as deterministic as the rest.
fn calibrate_vintage(plans: &mut [ShopPlan], counts: &[usize]) {
    let mut total = 0_u128;
    // Expected `vintage-finds` listings, in hundredths of a listing.
    let mut always = 0_u128;
    // Expected other listings times their vintage rate (per mille), in hundredths.
    let mut weighted = 0_u128;
    for (plan, &count) in plans.iter().zip(counts) {
        let count = count as u128;
        let vintage_percent = vintage_finds_percent(plan);
        total += count;
        always += count * vintage_percent;
        weighted += count * (100 - vintage_percent) * plan.vintage_rate as u128;
    }
    let target = total * VINTAGE_TARGET_PERCENT;
    if weighted == 0 {
        return;
    }
    let needed = target.saturating_sub(always);
    for plan in plans {
        let scaled = plan.vintage_rate as u128 * needed * 1000 / weighted;
        plan.vintage_rate = usize::try_from(scaled.min(950)).unwrap_or(950);
    }
}

/// Percentage of a shop's listings expected in `vintage-finds`.
fn vintage_finds_percent(plan: &ShopPlan) -> u128 {
    [plan.primary, plan.secondary[0], plan.secondary[1]]
        .iter()
        .zip(CATEGORY_SPLIT)
        .filter(|(category, _)| **category == VINTAGE_CATEGORY)
        .map(|(_, percent)| percent as u128)
        .sum()
}

fn build_product(
    rng: &mut SplitMix64,
    index: usize,
    shop_index: usize,
    plan: &ShopPlan,
    next_image: &mut usize,
) -> SeedProduct {
    let voice = &plan.voice;
    let category_idx = choose_category(rng, plan);
    let category = &CATEGORY_DEFS[category_idx];
    let is_vintage = category_idx == VINTAGE_CATEGORY || rng.chance(plan.vintage_rate);
    let kind_idx = if is_vintage {
        rng.weighted_index(category.kinds, |k| if k.vintage_ok { k.weight } else { 0 })
    } else {
        rng.weighted_index(category.kinds, |k| k.weight)
    };
    let kind = &category.kinds[kind_idx];
    let noun_group = G_NOUN_BASE + category_idx * 7 + kind_idx;

    let noun = voice.choose(rng, noun_group, kind.nouns);
    let noun2 = if kind.nouns.len() > 1 {
        // Any synonym other than `noun`.
        let pos = kind.nouns.iter().position(|n| *n == noun).unwrap_or(0);
        kind.nouns[(pos + 1 + rng.below(kind.nouns.len() - 1)) % kind.nouns.len()]
    } else {
        noun
    };
    // A few handmade listings use the kind's signature wording, which names
    // the material itself ("handcrafted leather billfold").
    let signature = (!is_vintage && !kind.signature_titles.is_empty() && rng.chance(150))
        .then(|| rng.pick(kind.signature_titles));
    let raw_material = rng.pick(kind.materials);
    let material = if signature.is_some() {
        "leather"
    } else {
        voice.material(rng, raw_material)
    };
    let era = pick_era(rng);
    let mut vintage = voice.choose(rng, G_VINTAGE, VINTAGE);
    if vintage == "antique" && era.def.decade >= 1950 && rng.chance(750) {
        // Most sellers keep "antique" for genuinely old pieces.
        vintage = "vintage";
    }
    let occasion = rng.pick(category.occasions);
    let (this, a) = if kind.measure.is_empty() {
        ("this".to_owned(), "a".to_owned())
    } else {
        (
            format!("this {}", kind.measure),
            format!("a {}", kind.measure),
        )
    };
    let slots = ProductSlots {
        maker: voice.choose(rng, G_HANDMADE, HANDMADE),
        vintage,
        era: era.word,
        period: era.def.period,
        year: era.year.to_string(),
        material,
        noun,
        noun2,
        variant: rng.pick(kind.variants),
        color: rng.pick(category.colors),
        adj: rng.pick(category.adjectives),
        style: if is_vintage {
            rng.pick(era.def.styles)
        } else {
            rng.pick(category.styles)
        },
        detail: rng.pick(kind.details),
        occasion,
        a_occasion: format!("a {occasion}"),
        made: rng.pick(kind.made),
        town: plan.town,
        sep: voice.sep,
        this,
        a,
    };

    let title = product_title(rng, voice, signature, &slots, is_vintage);
    let description = product_description(rng, voice, category, kind, &slots, is_vintage);
    let tags = product_tags(rng, voice, category, kind, &slots, is_vintage);
    let price_cents = price_cents(rng, kind.price.0, kind.price.1);
    let quantity = quantity(rng, is_vintage);
    let images = images(rng, next_image);

    SeedProduct {
        index,
        shop_index,
        title,
        description,
        price_cents,
        quantity,
        category: category.slug.to_owned(),
        tags,
        is_vintage,
        images,
        id_bytes: rng.bytes16(),
        age_days: u32::try_from(rng.below(366)).unwrap_or(0),
    }
}

fn product_title(
    rng: &mut SplitMix64,
    voice: &Voice,
    signature: Option<&'static str>,
    slots: &ProductSlots,
    is_vintage: bool,
) -> String {
    let template = if let Some(template) = signature {
        template
    } else if is_vintage {
        if rng.chance(600) {
            VINTAGE_TITLES[rng.pick(&voice.favorite_vintage_titles)]
        } else {
            rng.pick(VINTAGE_TITLES)
        }
    } else if rng.chance(600) {
        HANDMADE_TITLES[rng.pick(&voice.favorite_titles)]
    } else {
        rng.pick(HANDMADE_TITLES)
    };
    let raw = fix_articles(&collapse_repeats(&render(template, |k| slots.get(k))));
    let cased = match voice.casing {
        Casing::Title => title_case(&raw),
        Casing::Sentence => capitalize_first(&raw),
        Casing::Lower => raw.to_lowercase(),
    };
    clamp_chars(&cased, 200)
}

fn product_description(
    rng: &mut SplitMix64,
    voice: &Voice,
    category: &Category,
    kind: &Kind,
    slots: &ProductSlots,
    is_vintage: bool,
) -> String {
    let (opening, pools): (&str, [&[&str]; 5]) = if is_vintage {
        (
            rng.pick(VINTAGE_OPENINGS),
            [
                CONDITION_NOTES,
                PROVENANCE_NOTES,
                kind.dims,
                category.care,
                VINTAGE_SHIPPING,
            ],
        )
    } else {
        (
            rng.pick(HANDMADE_OPENINGS),
            [
                category.notes,
                kind.dims,
                category.care,
                OCCASION_SENTENCES,
                SHIPPING_NOTES,
            ],
        )
    };
    let count = 1 + rng.below(voice.max_sentences);
    let mut order = [0, 1, 2, 3, 4];
    rng.shuffle(&mut order);
    let mut chosen = order[..count - 1].to_vec();
    chosen.sort_unstable();

    let mut sentences = Vec::with_capacity(count);
    sentences.push(render(opening, |k| slots.get(k)));
    for pool in chosen {
        sentences.push(render(rng.pick(pools[pool]), |k| slots.get(k)));
    }
    clamp_chars(&join_sentences(&sentences), 5000)
}

fn product_tags(
    rng: &mut SplitMix64,
    voice: &Voice,
    category: &Category,
    kind: &Kind,
    slots: &ProductSlots,
    is_vintage: bool,
) -> Vec<String> {
    let target = voice.tag_range.0 + rng.below(voice.tag_range.1 - voice.tag_range.0 + 1);
    if target == 0 {
        return Vec::new();
    }
    let mut kind_tags: Vec<&str> = kind.tags.to_vec();
    rng.shuffle(&mut kind_tags);
    let mut category_tags: Vec<&str> = category.tags.to_vec();
    rng.shuffle(&mut category_tags);

    let material_noun = format!("{} {}", slots.material, slots.noun);
    let mut candidates: Vec<&str> = Vec::with_capacity(32);
    candidates.push(slots.noun);
    if !slots.noun.contains(slots.material) {
        candidates.push(&material_noun);
    }
    if is_vintage {
        candidates.push(slots.vintage);
        candidates.push(slots.era);
        candidates.push("vintage");
    } else {
        candidates.push(slots.maker);
    }
    candidates.extend(kind_tags.iter().take(4));
    candidates.push(slots.material);
    candidates.push(slots.color);
    candidates.push(slots.style);
    candidates.push(slots.occasion);
    candidates.extend(category_tags.iter().take(3));
    candidates.push(slots.noun2);
    candidates.push(slots.variant);
    candidates.extend(kind_tags.iter().skip(4));
    candidates.extend(category_tags.iter().skip(3));
    candidates.push(slots.adj);

    let mut tags: Vec<String> = Vec::with_capacity(target);
    for raw in candidates {
        if tags.len() >= target {
            break;
        }
        if let Some(tag) = normalize_tag(raw)
            && !tags.contains(&tag)
        {
            tags.push(tag);
        }
    }
    tags
}

/// A realistic price: skewed towards the cheap end of the range and rounded
/// to the kind of price points sellers actually use.
fn price_cents(rng: &mut SplitMix64, lo: i64, hi: i64) -> i64 {
    let dollars = rng.range(lo, hi).min(rng.range(lo, hi));
    let cents = if dollars < 20 {
        dollars * 100 + rng.pick(&[99, 0, 50, 95, 99, 0, 75, 25])
    } else if dollars < 100 {
        dollars * 100 + rng.pick(&[0, 0, 99, 50, 95, 0, 99, 45])
    } else if dollars < 400 {
        let rounded = dollars / 5 * 5;
        if rng.chance(250) {
            rounded * 100 - 1
        } else {
            rounded * 100
        }
    } else {
        let step = if rng.chance(500) { 10 } else { 25 };
        dollars / step * step * 100
    };
    cents.clamp(100, 250_000)
}

/// Stock level: about 3% sold out, about 70% one-of-a-kind, the rest small
/// batches. Vintage pieces are nearly always single items.
fn quantity(rng: &mut SplitMix64, is_vintage: bool) -> i64 {
    let roll = rng.below(1000);
    if roll < 30 {
        0
    } else if is_vintage {
        if roll < 960 { 1 } else { rng.range(2, 6) }
    } else if roll < 660 {
        1
    } else if roll < 920 {
        rng.range(2, 10)
    } else {
        rng.range(11, 50)
    }
}

/// Relative frequency of 0..=10 images per listing.
const IMAGE_COUNT_WEIGHTS: [usize; 11] = [2, 6, 8, 12, 15, 16, 13, 10, 8, 5, 5];

fn images(rng: &mut SplitMix64, next_image: &mut usize) -> Vec<String> {
    let count = rng.weighted_index(&IMAGE_COUNT_WEIGHTS, |w| *w);
    (0..count)
        .map(|_| {
            let url = format!("https://images.bazaar.example/p/{next_image}.jpg");
            *next_image += 1;
            url
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------

/// Replaces `{key}` placeholders using `lookup`; unknown keys are kept as is.
fn render<'s>(template: &str, lookup: impl Fn(&str) -> Option<&'s str>) -> String {
    let mut out = String::with_capacity(template.len() + 48);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = &after[..end];
        match lookup(key) {
            Some(value) => out.push_str(value),
            None => {
                out.push('{');
                out.push_str(key);
                out.push('}');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Fixes "a"/"an" before the following word and capitalises each sentence.
fn join_sentences(sentences: &[String]) -> String {
    sentences
        .iter()
        .map(|s| capitalize_first(&fix_articles(s)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Drops a word that repeats the previous one ("walnut walnut board").
fn collapse_repeats(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous = "";
    for word in text.split(' ') {
        if !previous.is_empty() && word.eq_ignore_ascii_case(previous) {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        previous = word;
    }
    out
}

fn wants_an(word: &str) -> bool {
    let lower = word
        .trim_start_matches(['(', '"', '\''])
        .to_ascii_lowercase();
    if ["uni", "use", "usu", "one", "eu", "ewe"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return false;
    }
    if ["hour", "honest", "heir"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return true;
    }
    if lower.starts_with('8') || lower.starts_with("18") || lower.starts_with("11") {
        return true;
    }
    lower.starts_with(['a', 'e', 'i', 'o', 'u'])
}

fn fix_articles(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let mut out = String::with_capacity(text.len() + 4);
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let next = words.get(i + 1).copied().unwrap_or("");
        match *word {
            "a" | "an" => out.push_str(if wants_an(next) { "an" } else { "a" }),
            "A" | "An" => out.push_str(if wants_an(next) { "An" } else { "A" }),
            other => out.push_str(other),
        }
    }
    out
}

fn capitalize_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        _ => text.to_owned(),
    }
}

const SMALL_WORDS: &[&str] = &[
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with",
];

fn title_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
            if SMALL_WORDS.contains(&word) {
                out.push_str(word);
                continue;
            }
        }
        let mut capitalize_next = true;
        for ch in word.chars() {
            if capitalize_next && ch.is_alphabetic() {
                out.extend(ch.to_uppercase());
                capitalize_next = false;
            } else {
                out.push(ch);
                if ch == '-' {
                    capitalize_next = true;
                } else if ch.is_alphanumeric() {
                    capitalize_next = false;
                }
            }
        }
    }
    out
}

/// Lowercases and keeps only `a-z`, `0-9`, `-` and single spaces; `None`
/// when the result is empty or longer than 20 characters.
fn normalize_tag(raw: &str) -> Option<String> {
    let mut tag = String::with_capacity(raw.len());
    for ch in raw.chars() {
        let c = ch.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
            tag.push(c);
        } else if c.is_whitespace() && !tag.is_empty() && !tag.ends_with(' ') {
            tag.push(' ');
        }
    }
    let tag = tag.trim_end();
    (!tag.is_empty() && tag.len() <= 20).then(|| tag.to_owned())
}

/// Truncates to at most `max` characters (never splitting a character).
fn clamp_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].trim_end().to_owned(),
        None => text.to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn is_slug(s: &str) -> bool {
        !s.is_empty()
            && s.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            })
    }

    fn full() -> Catalog {
        generate(100, 10_000, 42)
    }

    #[test]
    fn splitmix_reference_values() {
        // First outputs for seed 1234567 from the reference implementation.
        let mut rng = SplitMix64::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
        assert_eq!(rng.next_u64(), 9_817_491_932_198_370_423);
    }

    #[test]
    fn same_seed_same_catalog_different_seed_different() {
        let a = generate(20, 800, 7);
        let b = generate(20, 800, 7);
        assert_eq!(a, b);
        let c = generate(20, 800, 8);
        assert_ne!(a.shops, c.shops);
        assert_ne!(a.products, c.products);
    }

    #[test]
    fn categories_match_definitions_and_are_slugs() {
        let defs: Vec<&str> = CATEGORY_DEFS.iter().map(|c| c.slug).collect();
        assert_eq!(defs, CATEGORIES);
        assert_eq!(CATEGORY_DEFS[VINTAGE_CATEGORY].slug, "vintage-finds");
        for slug in CATEGORIES {
            assert!(is_slug(slug), "bad slug {slug}");
        }
        for category in CATEGORY_DEFS {
            assert!(
                category.kinds.iter().any(|k| k.vintage_ok),
                "{}",
                category.slug
            );
            for related in category.related {
                assert!(
                    category_index(related).is_some(),
                    "unknown related {related}"
                );
            }
            for list in [
                category.adjectives,
                category.colors,
                category.styles,
                category.occasions,
                category.made,
                category.notes,
                category.care,
                category.tags,
                category.focus,
                category.trades,
                category.things,
            ] {
                assert!(!list.is_empty(), "empty list in {}", category.slug);
            }
            for kind in category.kinds {
                for list in [
                    kind.nouns,
                    kind.made,
                    kind.variants,
                    kind.materials,
                    kind.details,
                    kind.dims,
                    kind.tags,
                ] {
                    assert!(!list.is_empty(), "empty kind list in {}", category.slug);
                }
                assert!(kind.price.0 >= 1 && kind.price.0 <= kind.price.1);
            }
        }
        assert!(VINTAGE_KINDS.iter().all(|k| k.vintage_ok));
    }

    #[test]
    fn all_limits_hold() {
        let catalog = full();
        assert_eq!(catalog.shops.len(), 100);
        assert_eq!(catalog.products.len(), 10_000);
        for (i, shop) in catalog.shops.iter().enumerate() {
            assert_eq!(shop.index, i);
            assert_eq!(shop.owner_index, i);
            let name_len = shop.name.chars().count();
            assert!((1..=100).contains(&name_len), "{}", shop.name);
            assert!(!shop.description.is_empty());
            assert!(shop.description.chars().count() <= 5000);
            assert!((0..=2000).contains(&shop.base_shipping_cents));
            assert!((0..=800).contains(&shop.per_extra_item_cents));
        }
        for (i, p) in catalog.products.iter().enumerate() {
            assert_eq!(p.index, i);
            assert!(p.shop_index < catalog.shops.len());
            let title_len = p.title.chars().count();
            assert!((1..=200).contains(&title_len), "{}", p.title);
            assert!(p.description.chars().count() <= 5000);
            assert!(
                !p.title.contains('{') && !p.title.contains('}'),
                "{}",
                p.title
            );
            assert!(!p.description.contains('{'), "{}", p.description);
            assert!(
                (100..=250_000).contains(&p.price_cents),
                "{}",
                p.price_cents
            );
            assert!((0..=50).contains(&p.quantity));
            assert!(CATEGORIES.contains(&p.category.as_str()));
            assert!(p.tags.len() <= 13);
            for tag in &p.tags {
                let len = tag.chars().count();
                assert!((1..=20).contains(&len), "{tag}");
                assert_eq!(tag, &tag.to_lowercase());
                assert_eq!(tag.trim(), tag);
            }
            assert!(p.images.len() <= 10);
            for url in &p.images {
                assert!(url.starts_with("https://images.bazaar.example/p/"), "{url}");
                assert!(url.ends_with(".jpg"));
            }
            assert!(p.age_days <= 365);
        }
        let ids: HashSet<[u8; 16]> = catalog
            .shops
            .iter()
            .map(|s| s.id_bytes)
            .chain(catalog.products.iter().map(|p| p.id_bytes))
            .collect();
        assert_eq!(ids.len(), 10_100);
    }

    #[test]
    fn shop_names_unique_case_insensitively() {
        for (shops, seed) in [(100, 42), (3000, 1)] {
            let catalog = generate(shops, 0, seed);
            let names: HashSet<String> = catalog
                .shops
                .iter()
                .map(|s| s.name.to_lowercase())
                .collect();
            assert_eq!(names.len(), shops);
            assert!(catalog.shops.iter().all(|s| s.name.chars().count() <= 100));
        }
    }

    #[test]
    fn products_spread_over_shops() {
        let catalog = full();
        let mut counts = vec![0_usize; catalog.shops.len()];
        for p in &catalog.products {
            counts[p.shop_index] += 1;
        }
        assert!(counts.iter().all(|&c| c >= 1));
        let max = counts.iter().max().copied().unwrap_or(0);
        let min = counts.iter().min().copied().unwrap_or(0);
        assert!(max >= 3 * min, "sizes should be uneven: {min}..{max}");

        let few = generate(10, 4, 3);
        assert_eq!(few.products.len(), 4);
        let exact = generate(7, 7, 3);
        let mut seen: Vec<usize> = exact.products.iter().map(|p| p.shop_index).collect();
        seen.dedup();
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
        let empty = generate(0, 50, 3);
        assert!(empty.shops.is_empty() && empty.products.is_empty());
    }

    #[test]
    fn quantity_distribution() {
        let catalog = full();
        let n = catalog.products.len() as f64;
        let share = |pred: &dyn Fn(i64) -> bool| {
            catalog.products.iter().filter(|p| pred(p.quantity)).count() as f64 / n
        };
        let zero = share(&|q| q == 0);
        assert!((0.01..=0.06).contains(&zero), "sold out share {zero}");
        let one = share(&|q| q == 1);
        assert!((0.62..=0.78).contains(&one), "single item share {one}");
        assert!(share(&|q| (2..=10).contains(&q)) > 0.1);
        assert!(share(&|q| q > 10) > 0.02);
    }

    #[test]
    fn vintage_share_and_wording() {
        let catalog = full();
        let vintage: Vec<&SeedProduct> = catalog.products.iter().filter(|p| p.is_vintage).collect();
        let share = vintage.len() as f64 / catalog.products.len() as f64;
        assert!((0.15..=0.35).contains(&share), "vintage share {share}");
        let words = [
            "vintage",
            "antique",
            "retro",
            "old",
            "classic",
            "secondhand",
            "20s",
            "30s",
            "40s",
            "50s",
            "60s",
            "70s",
            "80s",
            "90s",
            "mid-century",
            "victorian",
            "edwardian",
            "art deco",
            "turn of the century",
            "wartime",
            "seventies",
        ];
        for p in &vintage {
            let title = p.title.to_lowercase();
            assert!(words.iter().any(|w| title.contains(w)), "{}", p.title);
        }
        let titled = |word: &str| {
            vintage
                .iter()
                .filter(|p| p.title.to_lowercase().contains(word))
                .count()
        };
        assert!(titled("antique") >= 20);
        assert!(titled("vintage") >= 20);
        assert!(titled("1970s") >= 5);
        assert!(titled("mid-century") >= 5);
        assert!(vintage.iter().all(|p| p.quantity <= 50));
    }

    #[test]
    fn every_category_used() {
        let catalog = full();
        for slug in CATEGORIES {
            let n = catalog
                .products
                .iter()
                .filter(|p| p.category == *slug)
                .count();
            assert!(n >= 50, "{slug} has only {n} products");
        }
    }

    #[test]
    fn plenty_of_wallets() {
        let catalog = full();
        let wallet_words = ["wallet", "billfold", "cardholder", "purse", "pocketbook"];
        let wallets = catalog
            .products
            .iter()
            .filter(|p| {
                let t = p.title.to_lowercase();
                wallet_words.iter().any(|w| t.contains(w))
            })
            .count();
        assert!(wallets >= 100, "only {wallets} wallet titles");
        let leather = ["leather", "cowhide", "full grain"];
        let leather_wallets = catalog
            .products
            .iter()
            .filter(|p| {
                let t = p.title.to_lowercase();
                wallet_words.iter().any(|w| t.contains(w)) && leather.iter().any(|w| t.contains(w))
            })
            .count();
        assert!(
            leather_wallets >= 150,
            "only {leather_wallets} leather wallets"
        );
        let literal = catalog
            .products
            .iter()
            .filter(|p| {
                p.title
                    .to_lowercase()
                    .contains("handcrafted leather billfold")
            })
            .count();
        assert!(literal >= 3, "only {literal} literal billfold titles");
    }

    #[test]
    fn synonyms_and_stems_appear() {
        let catalog = full();
        let text: String = catalog
            .products
            .iter()
            .map(|p| format!("{} {} {}\n", p.title, p.description, p.tags.join(" ")))
            .collect::<String>()
            .to_lowercase();
        for word in [
            "handmade",
            "handcrafted",
            "artisan",
            "homemade",
            "hand-made",
            "wallet",
            "billfold",
            "cardholder",
            "pocketbook",
            "necklace",
            "pendant",
            "choker",
            "lariat",
            "earrings",
            "studs",
            "hoops",
            "dangles",
            "signet",
            "wedding band",
            "genuine leather",
            "real leather",
            "cowhide",
            "full grain",
            "sterling silver",
            "925",
            "14k",
            "18k",
            "gold filled",
            "gold plated",
            "secondhand",
            "candles",
            "candle ",
            "knitted",
            "knitting",
            "stitched",
            "stitching",
        ] {
            assert!(text.contains(word), "missing {word}");
        }
    }

    #[test]
    fn prices_are_realistic() {
        let catalog = full();
        let n = catalog.products.len();
        let under_100 = catalog
            .products
            .iter()
            .filter(|p| p.price_cents < 10_000)
            .count();
        assert!(under_100 * 100 >= n * 60, "only {under_100} under $100");
        assert!(n - under_100 >= n / 20, "too few items over $100");
        assert!(catalog.products.iter().any(|p| p.price_cents > 100_000));
    }

    #[test]
    fn text_helpers() {
        assert_eq!(
            fix_articles("a artisan mug and an wallet"),
            "an artisan mug and a wallet"
        );
        assert_eq!(
            fix_articles("A unique ring, a 18k band"),
            "A unique ring, an 18k band"
        );
        assert_eq!(
            collapse_repeats("Dark walnut Walnut board"),
            "Dark walnut board"
        );
        assert_eq!(
            title_case("handcrafted leather billfold - slim bifold in cognac"),
            "Handcrafted Leather Billfold - Slim Bifold in Cognac"
        );
        assert_eq!(
            title_case("1970s retro vase, mid-century green"),
            "1970s Retro Vase, Mid-Century Green"
        );
        assert_eq!(
            normalize_tag("Mother's Day Gift"),
            Some("mothers day gift".to_owned())
        );
        assert_eq!(normalize_tag("a very long tag that will not fit"), None);
        assert_eq!(clamp_chars("héllo world", 5), "héllo");
        let slots = |k: &str| (k == "x").then_some("y");
        assert_eq!(render("{x}-{z}", slots), "y-{z}");
    }
}
