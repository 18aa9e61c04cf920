"""Reference data about given names: short forms, spelling variants and common names.

Why a list at all: fuzzy string similarity cannot tell a typing error from a different
name. "Olivia" and "Oliver", or "Ava" and "Eva", are one or two edits apart, and twins
are often given names like that. Two *recognised* given names that are not short forms
or variants of each other are therefore treated as clearly different, however alike
they look; fuzzy matching is only used when at least one of the two is not a recognised
name (which is what a typing error usually produces).

The groups are conservative: a name joins a group only when the forms are commonly used
for one person (William / Will / Bill), never merely because they look alike.

No list holds every name, and this one is short (~470 names). So a name it lacks, one
letter from a name it holds, is not taken for a typing error where a typo and another
name look alike — at the first letter (Tia / Mia, Jax / Max) or in a name of three
letters or fewer: scoring.py calls that UNSURE and the index asks a person. A fuller
list was measured and not taken (docs/identity.md, "Names: typo or another child?"):
of the two measured from PyPI, one lacks the names of children born since 2005
(nicknames), the other carries a copyleft licence and 2008 data and turns many typing
errors into siblings (gender-guesser).
"""

from __future__ import annotations

# Each group: the canonical form first, then short forms and spelling variants.
NAME_GROUPS: tuple[tuple[str, ...], ...] = (
    ("alexander", "alex", "alec", "xander", "sandy", "alexandre"),
    ("alexandra", "alex", "lexi", "lexie", "sasha", "alexa"),
    ("abigail", "abbie", "abby", "abi", "abbi"),
    ("alfred", "alf", "alfie", "alfy"),
    ("amelia", "millie", "milly"),
    ("anna", "annie"),
    ("annabelle", "annabel", "annie"),
    ("andrew", "andy", "drew"),
    ("anthony", "tony", "antony"),
    ("benjamin", "ben", "benji", "benny"),
    ("callum", "calum", "cal"),
    ("catherine", "katherine", "kathryn", "cathryn", "kate", "katie", "kat", "cathy", "kathy"),
    ("charles", "charlie", "chas", "chuck"),
    ("charlotte", "lottie", "charlie", "lotte"),
    ("christopher", "chris", "kit"),
    ("daniel", "dan", "danny"),
    ("david", "dave", "davey"),
    ("edward", "ed", "eddie", "ted", "teddy", "ned"),
    ("eleanor", "ellie", "elle", "nell", "nellie", "elinor", "eleanore"),
    ("elizabeth", "liz", "lizzie", "beth", "eliza", "libby", "betsy"),
    ("frederick", "fred", "freddie", "freddy"),
    ("gabriel", "gabe"),
    ("gabriella", "gabriela", "gabby", "gabbie", "gabi"),
    ("georgina", "georgie", "gina"),
    ("harrison", "harry"),
    ("henry", "harry", "hal", "hank"),
    ("isabel", "isabelle", "isobel", "isabella", "izzy", "issy", "bella"),
    ("jack", "jak"),
    ("jacob", "jake", "jakob"),
    ("james", "jim", "jimmy", "jamie"),
    ("jayden", "jaden", "jaiden", "jaydon"),
    ("jessica", "jess", "jessie"),
    ("john", "jon", "johnny", "jonny"),
    ("jonathan", "jon", "jonny", "johnathan"),
    ("joseph", "joe", "joey"),
    ("joshua", "josh"),
    ("katie", "katy", "katey"),
    ("kayleigh", "kayley", "kaylee", "kayla"),
    ("leah", "lea"),
    ("lewis", "louis", "lou"),
    ("lily", "lilly", "lillie", "lili"),
    ("madison", "maddie", "maddy"),
    ("margaret", "maggie", "meg", "peggy"),
    ("matthew", "matt", "matty"),
    ("michael", "mike", "mikey", "mick", "micky"),
    ("mohammed", "muhammad", "mohammad", "mohamed", "muhammed", "mo"),
    ("natalie", "nat", "natalia"),
    ("nathan", "nate", "nathaniel"),
    ("nicholas", "nick", "nicky", "nico"),
    ("oliver", "ollie", "olly"),
    ("olivia", "liv", "livvy", "livia"),
    ("patrick", "pat", "paddy"),
    ("rebecca", "becky", "becca", "bex"),
    ("richard", "rich", "richie", "dick", "rick"),
    ("robert", "rob", "robbie", "bob", "bobby", "bert"),
    ("ronald", "ronnie", "ron"),
    ("samuel", "sam", "sammy"),
    ("samantha", "sam", "sammie"),
    ("sebastian", "seb", "bastian"),
    ("sophie", "sophia", "soph", "sofia"),
    ("stephen", "steven", "steve", "stevie"),
    ("susan", "sue", "susie", "suzanne"),
    ("theodore", "theo", "ted", "teddy"),
    ("thomas", "tom", "tommy"),
    ("timothy", "tim", "timmy"),
    ("victoria", "vicky", "tori", "vikki"),
    ("william", "will", "bill", "billy", "willy"),
    ("zachary", "zach", "zack", "zac"),
    ("zoe", "zoey"),
)

# Common given names of children born in England and Wales since 2005 (boys and girls),
# beyond those already in a group above.
_COMMON = """
aaron adam aiden aidan alfie ali alice alisha amber amir amira anna annabelle archie
aria ariana arlo arthur ashton aston ava ayaan ayesha bailey beatrice bella blake
bobbie bonnie brandon brooke caleb cameron carter chloe clara connor cooper corey
courtney daisy darcey darcie declan demi dexter dylan eden elijah eliza ella ellis
elsie elliot elliott emilia emily emma erin esme ethan eva evan evelyn evie ezra
faith felix finley finn florence francesca frankie freya george grace gracie hallie
hannah harley harper harriet harvey hayden heidi hollie holly hugo ibrahim imogen
isaac isla ivy jasmine jenson jodie jordan jude julia kacey kai kian kieran kyle
lacey lara laura layla leo leon leo lexi liam lola lucas lucy luke luna lydia mabel
maisie maria marcus martha mason matilda max maya megan mia millie molly morgan
muhammad maryam nancy naomi noah olly owen paige penelope phoebe piper poppy quinn
reggie reuben riley river robyn ronnie rory rose rosie ruby rufus ryan sadie sara
sarah scarlett shannon sienna sofia spencer stanley summer taylor teddy thea toby
tommy tyler violet willow yusuf zain zara zayn ada albie aisha amaya arya aurora
austin ayla bella billie brody cody eliana eloise ember ethel everly fatima gabriella
harris hamza hunter iris isaac jaxon jasper kayden kaiden kit leighton leila lilah
logan louie louisa luca lyra macie mila milo nathaniel nina nora orla oscar otis
ralph remi rhys roman rowan ruben sebastian seren skye sonny tilly theo tobias
travis victor wilfred xavier yasmin zachary zak zoe
"""

# Groups whose forms are used for one sex only. "Charlie" is short for Charles and for
# Charlotte: a boy recorded as Charlie is no Charlotte, and twins are named like that.
_MALE = """alfred alexander andrew anthony benjamin callum charles christopher daniel david edward
frederick gabriel harrison henry jack jacob james jayden john jonathan joseph joshua lewis
matthew michael mohammed nathan nicholas oliver patrick richard robert ronald samuel
sebastian stephen theodore thomas timothy william zachary"""
_FEMALE = """alexandra abigail amelia anna annabelle gabriella catherine charlotte eleanor
elizabeth georgina isabel jessica katie kayleigh leah lily madison margaret natalie olivia
rebecca samantha sophie susan victoria zoe"""
GROUP_SEX: dict[int, str] = {}
"""Group index -> "m" or "f" for the groups above; absent when the forms are unisex."""

NICKNAME_CANONICAL: dict[str, str] = {}
"""Maps every name in a group to the group's canonical form (the first one wins when a
short form belongs to several groups, e.g. "alex"): used for blocking keys."""

NAME_GROUP_IDS: dict[str, frozenset[int]] = {}
"""Maps a name to the groups it belongs to: two names are variants of one another when
their group sets intersect ("alex" is both Alexander and Alexandra)."""

_SEX_OF = dict.fromkeys(_MALE.split(), "m") | dict.fromkeys(_FEMALE.split(), "f")
for _i, _group in enumerate(NAME_GROUPS):
    if _group[0] in _SEX_OF:
        GROUP_SEX[_i] = _SEX_OF[_group[0]]
    for _name in _group:
        NICKNAME_CANONICAL.setdefault(_name, _group[0])
        NAME_GROUP_IDS[_name] = NAME_GROUP_IDS.get(_name, frozenset()) | {_i}

KNOWN_GIVEN_NAMES: frozenset[str] = frozenset(_COMMON.split()) | frozenset(NAME_GROUP_IDS)
"""Recognised given names: two different ones that are not variants are clearly
different names, never a typing error."""
