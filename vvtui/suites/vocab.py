"""Word lists the template engine draws from, and the filler text of long-context probes.

Plain ASCII, common and unambiguous, so a drawn value never changes what a question means: a word
is a lowercase English noun, a name a first name, a city a well-known city with one usual
English spelling. Changing these lists changes every rendered probe for a given seed, so only
append to them (and expect snapshots taken before to render differently).
"""

from __future__ import annotations

import random

WORDS: tuple[str, ...] = (
    "anchor", "apple", "arrow", "badge", "basket", "beacon", "blanket", "bottle", "bridge",
    "bucket", "button", "cabin", "camera", "candle", "canyon", "carpet", "castle", "cherry",
    "circle", "cloud", "comet", "copper", "cotton", "desert", "dragon", "drawer", "engine",
    "feather", "fiddle", "forest", "fountain", "garden", "ginger", "glacier", "harbor", "helmet",
    "hammer", "island", "jacket", "jungle", "kettle", "ladder", "lantern", "lemon", "lizard",
    "magnet", "marble", "meadow", "mirror", "monkey", "mountain", "needle", "orange", "oyster",
    "paddle", "palace", "pencil", "pepper", "pillow", "planet", "pocket", "puzzle", "rabbit",
    "ribbon", "rocket", "saddle", "salmon", "shadow", "silver", "spider", "spoon", "statue",
    "sunset", "table", "teapot", "ticket", "tiger", "tomato", "tunnel", "turtle", "velvet",
    "violin", "wagon", "walnut", "window", "winter", "wizard", "yogurt", "zipper", "pirate",
    "compass", "biscuit", "cactus", "dolphin", "falcon", "gravel", "hollow", "iceberg", "jigsaw",
    "kitten", "lobster", "mango", "nickel", "orchid", "parrot", "quartz", "riddle", "sparrow",
    "thimble", "umbrella", "volcano", "whistle", "anvil", "bramble", "chimney", "dagger",
    "ember", "flannel", "goblet", "hazel", "ivory", "juniper", "kayak", "locket", "mitten",
    "nutmeg", "otter", "pebble", "quill", "raven", "satchel", "trumpet", "walrus", "willow",
)  # fmt: skip

# Letter-rich words: each contains the letter "e" at least twice, so counting probes over them
# never degenerate to a count of zero or one.
E_WORDS: tuple[str, ...] = (
    "beekeeper", "bookkeeper", "committee", "convenience", "engineer", "excellence",
    "experience", "independence", "preference", "referee", "sentence", "settlement",
    "tennessee", "elephant", "evergreen", "freezer", "greeting", "keepsake", "needle",
    "reference", "seventeen", "teenager", "telescope", "veteran", "wednesday",
)  # fmt: skip

NAMES: tuple[str, ...] = (
    "Alice", "Amara", "Arjun", "Beatrix", "Bruno", "Camila", "Chidi", "Clara", "Dmitri",
    "Elena", "Emeka", "Farah", "Felix", "Greta", "Hana", "Hugo", "Ingrid", "Isaac", "Jasper",
    "Keiko", "Kofi", "Lars", "Leila", "Lucia", "Malik", "Marta", "Mateo", "Nadia", "Nikolai",
    "Olivia", "Omar", "Priya", "Quentin", "Rafael", "Rosa", "Sana", "Soren", "Tariq", "Tessa",
    "Ulla", "Victor", "Wanda", "Xavier", "Yara", "Yusuf", "Zora", "Anika", "Bastian", "Cyrus",
    "Delphine", "Esme", "Gideon", "Helga", "Imani", "Joaquin", "Kalani", "Linnea", "Magnus",
)  # fmt: skip

CITIES: tuple[str, ...] = (
    "Amsterdam", "Athens", "Bangkok", "Barcelona", "Berlin", "Bogota", "Boston", "Brussels",
    "Budapest", "Cairo", "Chicago", "Copenhagen", "Dublin", "Edinburgh", "Helsinki", "Istanbul",
    "Jakarta", "Kyoto", "Lagos", "Lima", "Lisbon", "London", "Madrid", "Manila", "Melbourne",
    "Montreal", "Mumbai", "Munich", "Nairobi", "Oslo", "Paris", "Prague", "Rome", "Santiago",
    "Seattle", "Seoul", "Singapore", "Stockholm", "Sydney", "Tokyo", "Toronto", "Vienna",
    "Warsaw", "Zurich", "Denver", "Hanoi", "Marseille", "Porto", "Valencia", "Vancouver",
)  # fmt: skip

_ADJECTIVES = (
    "quiet", "old", "narrow", "bright", "heavy", "painted", "wooden", "crowded", "empty",
    "famous", "distant", "tiny", "broad", "misty", "sunny", "hidden", "busy", "gentle",
)  # fmt: skip
_VERBS = (
    "repaired", "painted", "moved", "cleaned", "visited", "measured", "opened", "sold",
    "photographed", "rebuilt", "described", "admired", "inspected", "counted", "ignored",
)  # fmt: skip
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SHAPES = (
    "The {adj} {noun} near {city} was {verb} on {day}.",
    "Someone {verb} a {adj} {noun} in {city} last {day}.",
    "In {city}, the {noun} by the {adj} {noun2} was {verb} {n} times.",
    "A {adj} {noun} stood beside the {noun2} for {n} days.",
    "Travellers from {city} often talk about the {adj} {noun}.",
    "Every {day} the {noun} and the {noun2} are {verb} again.",
    "The guide said the {noun} in {city} weighs about {n} kilograms.",
)
# Filler must never contain a name (the needle of recall probes is tied to a name) nor a number
# of more than three digits (the needle is a long code).


def filler(rng: random.Random, sentences: int) -> str:
    """`sentences` sentences of plausible, content-free prose: the haystack of recall probes."""
    out = []
    for _ in range(sentences):
        shape = rng.choice(_SHAPES)
        out.append(
            shape.format(
                adj=rng.choice(_ADJECTIVES),
                noun=rng.choice(WORDS),
                noun2=rng.choice(WORDS),
                city=rng.choice(CITIES),
                verb=rng.choice(_VERBS),
                day=rng.choice(_DAYS),
                n=rng.randint(2, 999),
            )
        )
    return " ".join(out)
