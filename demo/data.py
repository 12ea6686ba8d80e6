"""What the demo shop sells and where: stores, categories and the word lists products are made from.

Everything here is plain data; demo.services turns it into rows. Products are generated from
product lines ("{collection} lopapeysa wool sweater" in a few colours) with random.Random(42),
so every run produces the same catalogue, SKUs and stock counts.
"""

import datetime
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import product as combinations

from django.utils.text import slugify

from catalog.models import VatClass

SEED = 42


@dataclass(frozen=True)
class DemoStore:
    slug: str
    name: str
    address: str
    postcode: str
    city: str
    country: str
    latitude: Decimal
    longitude: Decimal
    time_zone: str
    phone: str
    # (first weekday, last weekday, opens, closes), Monday = 0; days not listed are closed.
    hours: tuple[tuple[int, int, int, int], ...]

    def opening_hours(self):
        """(weekday, opens, closes) for every open day."""
        return [
            (weekday, datetime.time(opens), datetime.time(closes))
            for first, last, opens, closes in self.hours
            for weekday in range(first, last + 1)
        ]


HIGH_STREET_HOURS_IS = ((0, 4, 10, 19), (5, 5, 10, 18), (6, 6, 12, 17))
MALL_HOURS_IS = ((0, 4, 11, 19), (5, 5, 11, 18), (6, 6, 12, 17))
# Norwegian shops outside petrol stations and small grocers are closed on Sundays.
HOURS_NO = ((0, 4, 10, 20), (5, 5, 10, 18))

# Where to park at each demo store, in English, Icelandic and Norwegian (Store.parking).
PARKING = {
    "laugavegur": (
        "Paid street parking on Laugavegur; the Traðarkot car park on Hverfisgata is a two-minute walk.",
        "Gjaldskyld stæði við Laugaveg; bílastæðahúsið Traðarkot við Hverfisgötu er í tveggja mínútna göngufæri.",
        "Betalt gateparkering i Laugavegur; parkeringshuset Traðarkot i Hverfisgata er to minutter unna.",
    ),
    "kringlan": (
        "Free parking around the mall and in the covered car park; use the north entrance.",
        "Ókeypis bílastæði við verslunarmiðstöðina og í bílastæðahúsinu; notaðu norðurinnganginn.",
        "Gratis parkering rundt senteret og i parkeringshuset; bruk inngangen mot nord.",
    ),
    "smaralind": (
        "Free parking all around Smáralind; the nearest entrance is by the winter garden.",
        "Ókeypis bílastæði allt í kringum Smáralind; næsti inngangur er við Vetrargarðinn.",
        "Gratis parkering rundt hele Smáralind; nærmeste inngang er ved vinterhagen.",
    ),
    "karl-johans-gate": (
        "No parking in the pedestrian street: use the Oslo City car park or the metro (Jernbanetorget).",
        "Engin stæði í göngugötunni: notaðu bílastæðahús Oslo City eða neðanjarðarlestina (Jernbanetorget).",
        "Ingen parkering i gågaten: bruk parkeringshuset i Oslo City eller T-banen (Jernbanetorget).",
    ),
    "grunerlokka": (
        "Paid street parking in the side streets; the tram stops at Olaf Ryes plass.",
        "Gjaldskyld stæði í hliðargötunum; sporvagninn stoppar við Olaf Ryes plass.",
        "Betalt gateparkering i sidegatene; trikken stopper ved Olaf Ryes plass.",
    ),
    "majorstuen": (
        "Paid parking in the basement, two hours free with a receipt.",
        "Gjaldskyld stæði í kjallaranum, tveir tímar ókeypis gegn kvittun.",
        "Betalt parkering i kjelleren, to timer gratis mot kvittering.",
    ),
}

# Holidays on which every demo store keeps other hours, or closes: (month, day, opens, closes,
# reason in English, Icelandic and Norwegian); no opening hour: closed all day.
HOLIDAYS = (
    (12, 24, 10, 13, ("Christmas Eve", "Aðfangadagur", "Julaften")),
    (12, 25, None, None, ("Christmas Day", "Jóladagur", "Første juledag")),
    (12, 26, None, None, ("Boxing Day", "Annar í jólum", "Andre juledag")),
    (12, 31, 10, 13, ("New Year's Eve", "Gamlársdagur", "Nyttårsaften")),
    (1, 1, None, None, ("New Year's Day", "Nýársdagur", "Første nyttårsdag")),
)


def next_date(month: int, day: int, today: datetime.date) -> datetime.date:
    """The first `month`/`day` on or after today."""
    this_year = datetime.date(today.year, month, day)
    return this_year if this_year >= today else datetime.date(today.year + 1, month, day)


STORES = (
    DemoStore(
        slug="laugavegur",
        name="Norðurbúð Laugavegur",
        address="Laugavegur 45",
        postcode="101",
        city="Reykjavík",
        country="IS",
        latitude=Decimal("64.145300"),
        longitude=Decimal("-21.927000"),
        time_zone="Atlantic/Reykjavik",
        phone="+354 555 0145",
        hours=HIGH_STREET_HOURS_IS,
    ),
    DemoStore(
        slug="kringlan",
        name="Norðurbúð Kringlan",
        address="Kringlan 4–12",
        postcode="103",
        city="Reykjavík",
        country="IS",
        latitude=Decimal("64.129900"),
        longitude=Decimal("-21.895600"),
        time_zone="Atlantic/Reykjavik",
        phone="+354 555 0103",
        hours=MALL_HOURS_IS,
    ),
    DemoStore(
        slug="smaralind",
        name="Norðurbúð Smáralind",
        address="Hagasmári 1",
        postcode="201",
        city="Kópavogur",
        country="IS",
        latitude=Decimal("64.101300"),
        longitude=Decimal("-21.884000"),
        time_zone="Atlantic/Reykjavik",
        phone="+354 555 0201",
        hours=MALL_HOURS_IS,
    ),
    DemoStore(
        slug="karl-johans-gate",
        name="Norðurbúð Karl Johans gate",
        address="Karl Johans gate 23",
        postcode="0159",
        city="Oslo",
        country="NO",
        latitude=Decimal("59.912700"),
        longitude=Decimal("10.742500"),
        time_zone="Europe/Oslo",
        phone="+47 22 00 01 59",
        hours=HOURS_NO,
    ),
    DemoStore(
        slug="grunerlokka",
        name="Norðurbúð Grünerløkka",
        address="Thorvald Meyers gate 52",
        postcode="0555",
        city="Oslo",
        country="NO",
        latitude=Decimal("59.923500"),
        longitude=Decimal("10.759000"),
        time_zone="Europe/Oslo",
        phone="+47 22 00 05 55",
        hours=HOURS_NO,
    ),
    DemoStore(
        slug="majorstuen",
        name="Norðurbúð Majorstuen",
        address="Bogstadveien 50",
        postcode="0366",
        city="Oslo",
        country="NO",
        latitude=Decimal("59.928000"),
        longitude=Decimal("10.718000"),
        time_zone="Europe/Oslo",
        phone="+47 22 00 03 66",
        hours=HOURS_NO,
    ),
)


@dataclass(frozen=True)
class DemoCategory:
    slug: str
    name: str
    parent: str | None = None
    # The name in Icelandic and Norwegian Bokmål.
    name_is: str = ""
    name_nb: str = ""


CATEGORIES = (
    DemoCategory("clothing", "Clothing", None, "Fatnaður", "Klær"),
    DemoCategory("knitwear", "Knitwear", "clothing", "Prjónavörur", "Strikk"),
    DemoCategory("outerwear", "Outerwear", "clothing", "Yfirhafnir", "Yttertøy"),
    DemoCategory("base-layers", "Base layers", "clothing", "Innsta lag", "Ullundertøy"),
    DemoCategory("hats-gloves", "Hats & gloves", "clothing", "Húfur og vettlingar", "Luer og hansker"),
    DemoCategory("outdoor", "Outdoor", None, "Útivist", "Friluftsliv"),
    DemoCategory("tents", "Tents", "outdoor", "Tjöld", "Telt"),
    DemoCategory(
        "sleeping-bags", "Sleeping bags & mats", "outdoor", "Svefnpokar og dýnur", "Soveposer og liggeunderlag"
    ),
    DemoCategory("backpacks", "Backpacks", "outdoor", "Bakpokar", "Sekker"),
    DemoCategory("footwear", "Footwear", "outdoor", "Skór", "Sko"),
    DemoCategory("home", "Home", None, "Heimilið", "Hjem"),
    DemoCategory("blankets", "Blankets & throws", "home", "Teppi og ábreiður", "Pledd og tepper"),
    DemoCategory("ceramics", "Ceramics", "home", "Keramík", "Keramikk"),
    DemoCategory("candles", "Candles", "home", "Kerti", "Lys"),
    DemoCategory("food-drink", "Food & Drink", None, "Matur og drykkur", "Mat og drikke"),
    DemoCategory("coffee-tea", "Coffee & tea", "food-drink", "Kaffi og te", "Kaffe og te"),
    DemoCategory("chocolate", "Chocolate & liquorice", "food-drink", "Súkkulaði og lakkrís", "Sjokolade og lakris"),
    DemoCategory("pantry", "Pantry", "food-drink", "Matarbúrið", "Kolonial"),
)

# The food-and-drink categories: their products carry the reduced VAT rate.
FOOD_CATEGORIES = frozenset(
    category.slug for category in CATEGORIES if category.slug == "food-drink" or category.parent == "food-drink"
)

# Product collections are named after mountains, glaciers and places in Iceland and Norway:
# proper names, the same in every language.
COLLECTIONS = (
    "Hekla",
    "Katla",
    "Esja",
    "Askja",
    "Snæfell",
    "Dyngja",
    "Heiðmörk",
    "Lofoten",
    "Rondane",
    "Jotunheimen",
    "Dovre",
    "Senja",
)

COLOURS = ("natural white", "charcoal", "heather grey", "moss green", "navy", "rust red", "mustard")
GLAZES = ("lava black", "glacier blue", "moss green", "ash white")

# Icelandic colour words agree with the product's noun: masculine, feminine and neuter,
# singular and plural ("kolgrár trefill", "kolgrá peysa", "kolgrátt teppi", "kolgráir sokkar").
# Norwegian shops write the colour after the name in its base form ("ullskjerf, koksgrå").
IS_GENDERS = ("m", "f", "n", "mpl", "fpl", "npl")
COLOUR_WORDS = {
    # English: ((Icelandic m, f, n, m pl, f pl, n pl), Norwegian)
    "natural white": (
        ("náttúruhvítur", "náttúruhvít", "náttúruhvítt", "náttúruhvítir", "náttúruhvítar", "náttúruhvít"),
        "naturhvit",
    ),
    "charcoal": (("kolgrár", "kolgrá", "kolgrátt", "kolgráir", "kolgráar", "kolgrá"), "koksgrå"),
    "heather grey": (("ljósgrár", "ljósgrá", "ljósgrátt", "ljósgráir", "ljósgráar", "ljósgrá"), "gråmelert"),
    "moss green": (("mosagrænn", "mosagræn", "mosagrænt", "mosagrænir", "mosagrænar", "mosagræn"), "mosegrønn"),
    "navy": (("dökkblár", "dökkblá", "dökkblátt", "dökkbláir", "dökkbláar", "dökkblá"), "marineblå"),
    "rust red": (("ryðrauður", "ryðrauð", "ryðrautt", "ryðrauðir", "ryðrauðar", "ryðrauð"), "rustrød"),
    "mustard": (
        ("sinnepsgulur", "sinnepsgul", "sinnepsgult", "sinnepsgulir", "sinnepsgular", "sinnepsgul"),
        "sennepsgul",
    ),
    "black": (("svartur", "svört", "svart", "svartir", "svartar", "svört"), "svart"),
    "olive": (("ólífugrænn", "ólífugræn", "ólífugrænt", "ólífugrænir", "ólífugrænar", "ólífugræn"), "olivengrønn"),
    "sand": (("sandlitaður", "sandlituð", "sandlitað", "sandlitaðir", "sandlitaðar", "sandlituð"), "sand"),
    "orange": (
        ("appelsínugulur", "appelsínugul", "appelsínugult", "appelsínugulir", "appelsínugular", "appelsínugul"),
        "oransje",
    ),
    "forest green": (("dökkgrænn", "dökkgræn", "dökkgrænt", "dökkgrænir", "dökkgrænar", "dökkgræn"), "skogsgrønn"),
    "slate blue": (("gráblár", "gráblá", "gráblátt", "grábláir", "grábláar", "gráblá"), "skiferblå"),
    "petrol blue": (("grænblár", "grænblá", "grænblátt", "grænbláir", "grænbláar", "grænblá"), "petrolblå"),
    "plum": (("vínrauður", "vínrauð", "vínrautt", "vínrauðir", "vínrauðar", "vínrauð"), "plommefarget"),
    "white": (("hvítur", "hvít", "hvítt", "hvítir", "hvítar", "hvít"), "hvit"),
    "sky blue": (("ljósblár", "ljósblá", "ljósblátt", "ljósbláir", "ljósbláar", "ljósblá"), "lyseblå"),
    "green": (("grænn", "græn", "grænt", "grænir", "grænar", "græn"), "grønn"),
    "grey": (("grár", "grá", "grátt", "gráir", "gráar", "grá"), "grå"),
    "red": (("rauður", "rauð", "rautt", "rauðir", "rauðar", "rauð"), "rød"),
    "yellow": (("gulur", "gul", "gult", "gulir", "gular", "gul"), "gul"),
    "blue": (("blár", "blá", "blátt", "bláir", "bláar", "blá"), "blå"),
    "brown": (("brúnn", "brún", "brúnt", "brúnir", "brúnar", "brún"), "brun"),
    "lava black": (
        ("hraunsvartur", "hraunsvört", "hraunsvart", "hraunsvartir", "hraunsvartar", "hraunsvört"),
        "lavasvart",
    ),
    "glacier blue": (("jöklablár", "jöklablá", "jöklablátt", "jöklabláir", "jöklabláar", "jöklablá"), "breblå"),
    "ash white": (("öskuhvítur", "öskuhvít", "öskuhvítt", "öskuhvítir", "öskuhvítar", "öskuhvít"), "askehvit"),
}

# What the variant is called in a description ("Colour: charcoal."), per language.
VARIANT_LABELS = {
    "Colour": ("Litur", "Farge"),
    "Warmth": ("Hitastig", "Temperatur"),
    "Size": ("Stærð", "Størrelse"),
    "Glaze": ("Glerungur", "Glasur"),
    "Scent": ("Ilmur", "Duft"),
    "Roast": ("Ristun", "Brenning"),
    "Flavour": ("Bragð", "Smak"),
}


@dataclass(frozen=True)
class Words:
    """A variant that is not a colour, as it follows the name in Icelandic and Norwegian, and,
    where it differs, as it follows the label in the description ("Bragð: sjávarsalt.")."""

    is_: str
    nb: str
    is_label: str = ""
    nb_label: str = ""


@dataclass(frozen=True)
class ProductLine:
    """One kind of product, sold in several collections and variants.

    `template` contains {collection} or {variant}; with {collection}, the variant follows the
    name after a comma ("Esja wool scarf, charcoal"). The Icelandic and Norwegian templates
    place {variant} themselves. Colour variants are looked up in COLOUR_WORDS (Icelandic in the
    gender `is_gender` of the product's noun); other variants are given in `words`.
    """

    category: str
    sku_prefix: str
    template: str
    description: str
    price: int  # in Icelandic krónur; Norwegian prices are derived (norwegian_price)
    variants: tuple[str, ...] = ()
    variant_label: str = "Colour"
    count: int = 5
    collections: tuple[str, ...] = field(default=COLLECTIONS)
    is_template: str = ""
    nb_template: str = ""
    is_description: str = ""
    nb_description: str = ""
    is_gender: str = "m"
    words: tuple[Words, ...] = ()

    def translated_variant(self, variant: str) -> tuple[Words, str, str]:
        """(the words for Icelandic and Norwegian, the Icelandic and Norwegian label forms)."""
        if self.words:
            words = self.words[self.variants.index(variant)]
        else:
            is_forms, nb = COLOUR_WORDS[variant]
            # The description's "Litur: …" agrees with "litur" (masculine singular).
            words = Words(is_forms[IS_GENDERS.index(self.is_gender)], nb, is_label=is_forms[0])
        return words, words.is_label or words.is_, words.nb_label or words.nb


def _c(template):
    """An Icelandic or Norwegian template for a product named after a collection, coloured."""
    return template + ", {variant}"


PRODUCT_LINES = (
    # Clothing › Knitwear
    ProductLine(
        "knitwear",
        "KNT",
        "{collection} lopapeysa wool sweater",
        "Knitted from Icelandic lopi wool with the traditional round yoke. Light, warm and it shrugs off drizzle.",
        24990,
        COLOURS,
        count=8,
        is_template=_c("{collection} lopapeysa"),
        nb_template=_c("{collection} lopegenser"),
        is_description=(
            "Prjónuð úr íslenskum lopa með hefðbundnu hringlaga berustykki. Létt, hlý og hrindir frá sér súldinni."
        ),
        nb_description=(
            "Strikket av islandsk lopeull med det tradisjonelle runde bærestykket. Lett, varm og tåler fint litt yr."
        ),
        is_gender="f",
    ),
    ProductLine(
        "knitwear",
        "KNT",
        "{collection} wool cardigan",
        "A buttoned cardigan in soft lambswool, long enough to wear over a shirt on a cold office day.",
        21990,
        COLOURS,
        is_template=_c("{collection} hneppt ullarpeysa"),
        nb_template=_c("{collection} strikkejakke i ull"),
        is_description="Hneppt peysa úr mjúkri lambsull, nógu síð til að klæðast yfir skyrtu á köldum degi í vinnunni.",
        nb_description="En knappet jakke i myk lammeull, lang nok til å ha over skjorta en kald dag på kontoret.",
        is_gender="f",
    ),
    ProductLine(
        "knitwear",
        "KNT",
        "{collection} chunky wool socks",
        "Thick ribbed socks for boots and cabins, knitted from undyed Icelandic wool.",
        2990,
        COLOURS,
        count=6,
        is_template=_c("{collection} þykkir ullarsokkar"),
        nb_template=_c("{collection} tykke ullsokker"),
        is_description=(
            "Þykkir, stroffprjónaðir sokkar í gönguskóna og sumarbústaðinn, prjónaðir úr ólitaðri íslenskri ull."
        ),
        nb_description="Tykke ribbestrikkede sokker til støvler og hytteliv, strikket av ufarget islandsk ull.",
        is_gender="mpl",
    ),
    ProductLine(
        "knitwear",
        "KNT",
        "{collection} wool scarf",
        "A long scarf in a brushed wool blend that keeps its shape wash after wash.",
        6990,
        COLOURS,
        is_template=_c("{collection} ullartrefill"),
        nb_template=_c("{collection} ullskjerf"),
        is_description="Langur trefill úr burstaðri ullarblöndu sem heldur lögun sinni þvott eftir þvott.",
        nb_description="Et langt skjerf i børstet ullblanding som holder formen vask etter vask.",
        is_gender="m",
    ),
    # Clothing › Outerwear
    ProductLine(
        "outerwear",
        "OUT",
        "{collection} insulated parka",
        "A hip-length parka with recycled synthetic fill, a storm hood and fleece-lined pockets.",
        49990,
        ("black", "navy", "olive", "sand"),
        count=6,
        is_template=_c("{collection} fóðruð úlpa"),
        nb_template=_c("{collection} isolert parkas"),
        is_description="Mjaðmasíð úlpa með endurunninni gervifyllingu, stormhettu og flísfóðruðum vösum.",
        nb_description="En hoftelang parkas med resirkulert syntetisk fyll, stormhette og fleecefôrede lommer.",
        is_gender="f",
    ),
    ProductLine(
        "outerwear",
        "OUT",
        "{collection} rain jacket",
        "A three-layer waterproof shell with taped seams, built for horizontal rain.",
        29990,
        ("black", "orange", "forest green", "slate blue"),
        count=6,
        is_template=_c("{collection} regnjakki"),
        nb_template=_c("{collection} regnjakke"),
        is_description="Vatnsheld þriggja laga skel með límdum saumum, gerð fyrir íslenskt slagveður.",
        nb_description="Et vanntett skall i tre lag med tapede sømmer, laget for regn som kommer sidelengs.",
        is_gender="m",
    ),
    ProductLine(
        "outerwear",
        "OUT",
        "{collection} softshell jacket",
        "Stretchy and windproof, for brisk walks along the harbour and long days on the trail.",
        24990,
        ("black", "charcoal", "petrol blue"),
        is_template=_c("{collection} softshell-jakki"),
        nb_template=_c("{collection} softshelljakke"),
        is_description="Teygjanlegur og vindheldur, fyrir hressandi göngutúra við höfnina og langa daga á fjöllum.",
        nb_description="Elastisk og vindtett, for friske turer langs havna og lange dager på stien.",
        is_gender="m",
    ),
    ProductLine(
        "outerwear",
        "OUT",
        "{collection} down vest",
        "A light down vest that packs into its own pocket.",
        19990,
        ("black", "navy", "rust red"),
        count=4,
        is_template=_c("{collection} dúnvesti"),
        nb_template=_c("{collection} dunvest"),
        is_description="Létt dúnvesti sem pakkast saman í eigin vasa.",
        nb_description="En lett dunvest som kan pakkes ned i sin egen lomme.",
        is_gender="n",
    ),
    # Clothing › Base layers
    ProductLine(
        "base-layers",
        "BAS",
        "{collection} merino base layer top",
        "A long-sleeved top in fine merino wool that stays warm when damp and does not hold odours.",
        11990,
        ("black", "charcoal", "moss green", "plum"),
        count=6,
        is_template=_c("{collection} síðerma bolur úr merínóull"),
        nb_template=_c("{collection} ullundertrøye i merino"),
        is_description="Síðerma bolur úr fínni merínóull sem heldur hita þótt hann blotni og tekur ekki í sig lykt.",
        nb_description=(
            "En langermet trøye i fin merinoull som varmer selv om den blir fuktig, og som ikke holder på lukt."
        ),
        is_gender="m",
    ),
    ProductLine(
        "base-layers",
        "BAS",
        "{collection} merino leggings",
        "Merino leggings with a flat waistband that sits comfortably under a hip belt.",
        10990,
        ("black", "charcoal", "navy"),
        is_template=_c("{collection} ullarbuxur úr merínóull"),
        nb_template=_c("{collection} ullongs i merino"),
        is_description="Síðar buxur úr merínóull með sléttum streng sem situr þægilega undir mjaðmabelti.",
        nb_description="Longs i merinoull med flat linning som sitter behagelig under hoftebeltet.",
        is_gender="fpl",
    ),
    ProductLine(
        "base-layers",
        "BAS",
        "{collection} merino T-shirt",
        "A lightweight merino T-shirt for summer hikes and long travel days.",
        8990,
        ("black", "heather grey", "white", "sky blue"),
        is_template=_c("{collection} stuttermabolur úr merínóull"),
        nb_template=_c("{collection} T-skjorte i merinoull"),
        is_description="Léttur stuttermabolur úr merínóull fyrir sumargöngur og langa ferðadaga.",
        nb_description="En lett T-skjorte i merinoull for sommerturer og lange reisedager.",
        is_gender="m",
    ),
    # Clothing › Hats & gloves
    ProductLine(
        "hats-gloves",
        "HAT",
        "{collection} knitted beanie hat",
        "A double-layered knitted hat with a folded brim, made in Iceland.",
        4990,
        COLOURS,
        count=7,
        is_template=_c("{collection} prjónahúfa"),
        nb_template=_c("{collection} strikket lue"),
        is_description="Tvöföld húfa með uppbroti, prjónuð á Íslandi.",
        nb_description="En dobbel lue med brett, strikket på Island.",
        is_gender="f",
    ),
    ProductLine(
        "hats-gloves",
        "HAT",
        "{collection} wool mittens",
        "Warm mittens with a traditional pattern and a windproof lining.",
        3990,
        COLOURS,
        count=6,
        is_template=_c("{collection} lopavettlingar"),
        nb_template=_c("{collection} ullvotter"),
        is_description="Hlýir vettlingar með hefðbundnu mynstri og vindheldu fóðri.",
        nb_description="Varme votter med tradisjonelt mønster og vindtett fôr.",
        is_gender="mpl",
    ),
    ProductLine(
        "hats-gloves",
        "HAT",
        "{collection} touchscreen gloves",
        "Thin wool-blend gloves with fingertips that work on phone screens.",
        3490,
        ("black", "charcoal", "navy"),
        count=4,
        is_template=_c("{collection} snertiskjáhanskar"),
        nb_template=_c("{collection} hansker for berøringsskjerm"),
        is_description="Þunnir hanskar úr ullarblöndu með fingurgómum sem virka á símaskjái.",
        nb_description="Tynne hansker i ullblanding med fingertupper som virker på mobilskjermen.",
        is_gender="mpl",
    ),
    # Outdoor › Tents
    ProductLine(
        "tents",
        "TNT",
        "{collection} 2-person dome tent",
        "A free-standing dome tent that pitches in five minutes, with two doors, two porches and a pocket overhead"
        " for your hat and headlamp.",
        39990,
        ("green", "orange", "sand"),
        count=4,
        is_template=_c("{collection} tveggja manna kúlutjald"),
        nb_template=_c("{collection} kuppeltelt for to"),
        is_description=(
            "Sjálfberandi kúlutjald sem er komið upp á fimm mínútum, með tvennum dyrum, tveimur fortjöldum og vasa"
            " í loftinu fyrir húfuna og höfuðljósið."
        ),
        nb_description=(
            "Et frittstående kuppeltelt som er oppe på fem minutter, med to dører, to apsider og en lomme i taket"
            " til lue og hodelykt."
        ),
        is_gender="n",
    ),
    ProductLine(
        "tents",
        "TNT",
        "{collection} 3-person tunnel tent",
        "A low tunnel tent that stands up to highland wind, with room for three and their packs.",
        54990,
        ("green", "orange"),
        count=4,
        is_template=_c("{collection} þriggja manna göngtjald"),
        nb_template=_c("{collection} tunneltelt for tre"),
        is_description="Lágreist göngtjald sem stenst hálendisrokið, með plássi fyrir þrjá og bakpokana þeirra.",
        nb_description="Et lavt tunneltelt som tåler vinden på fjellet, med plass til tre og sekkene deres.",
        is_gender="n",
    ),
    ProductLine(
        "tents",
        "TNT",
        "{collection} 1-person trekking tent",
        "Under 1.2 kg: a single-wall shelter pitched with trekking poles.",
        34990,
        ("grey", "green"),
        count=3,
        is_template=_c("{collection} eins manns göngutjald"),
        nb_template=_c("{collection} lett enmannstelt"),
        is_description="Undir 1,2 kg: einfalt skýli sem er reist með göngustöfum.",
        nb_description="Under 1,2 kg: et enveggstelt som settes opp med turstaver.",
        is_gender="n",
    ),
    ProductLine(
        "tents",
        "TNT",
        "{collection} 4-season expedition tent",
        "A geodesic tent for snow and storms, with snow valances and a large vestibule.",
        89990,
        ("red", "yellow"),
        count=3,
        is_template=_c("{collection} leiðangurstjald fyrir allar árstíðir"),
        nb_template=_c("{collection} ekspedisjonstelt for alle årstider"),
        is_description="Hvolftjald fyrir snjó og storma, með snjósvuntum og rúmgóðu fortjaldi.",
        nb_description="Et geodetisk telt for snø og storm, med snøskjørt og stor apsis.",
        is_gender="n",
    ),
    # Outdoor › Sleeping bags & mats
    ProductLine(
        "sleeping-bags",
        "SLP",
        "{collection} down sleeping bag",
        "A mummy-shaped bag filled with responsibly sourced goose down.",
        44990,
        ("comfort 0 °C", "comfort −5 °C", "comfort −12 °C"),
        variant_label="Warmth",
        count=6,
        is_template=_c("{collection} dúnsvefnpoki"),
        nb_template=_c("{collection} dunsovepose"),
        is_description="Múmíulaga poki fylltur gæsadúni frá ábyrgum framleiðendum.",
        nb_description="En mumieformet pose fylt med ansvarlig produsert gåsedun.",
        words=(
            Words("þægindahiti 0 °C", "komfort 0 °C"),
            Words("þægindahiti −5 °C", "komfort −5 °C"),
            Words("þægindahiti −12 °C", "komfort −12 °C"),
        ),
    ),
    ProductLine(
        "sleeping-bags",
        "SLP",
        "{collection} synthetic sleeping bag",
        "Synthetic fill that keeps its warmth in wet weather; machine washable.",
        24990,
        ("comfort 5 °C", "comfort 0 °C", "comfort −5 °C"),
        variant_label="Warmth",
        count=5,
        is_template=_c("{collection} svefnpoki með gervifyllingu"),
        nb_template=_c("{collection} sovepose med syntetisk fyll"),
        is_description="Gervifylling sem heldur hita þótt hún blotni; má þvo í þvottavél.",
        nb_description="Syntetisk fyll som holder på varmen i vått vær; kan vaskes i maskin.",
        words=(
            Words("þægindahiti 5 °C", "komfort 5 °C"),
            Words("þægindahiti 0 °C", "komfort 0 °C"),
            Words("þægindahiti −5 °C", "komfort −5 °C"),
        ),
    ),
    ProductLine(
        "sleeping-bags",
        "SLP",
        "{collection} self-inflating sleeping mat",
        "Open the valve and it inflates itself; an insulated foam core for cold ground.",
        14990,
        ("regular", "long", "wide"),
        variant_label="Size",
        count=5,
        is_template=_c("{collection} sjálfuppblásandi svefndýna"),
        nb_template=_c("{collection} selvoppblåsende liggeunderlag"),
        is_description="Opnaðu ventilinn og dýnan blæs sig upp sjálf; einangrandi svampkjarni fyrir kalda jörð.",
        nb_description="Åpne ventilen, så blåser underlaget seg opp selv; isolerende skumkjerne for kald mark.",
        words=(Words("venjuleg", "vanlig"), Words("löng", "lang"), Words("breið", "bred")),
    ),
    # Outdoor › Backpacks
    ProductLine(
        "backpacks",
        "BPK",
        "{collection} 30 L daypack",
        "A daypack with a rain cover, hip belt pockets and a sleeve for a water bladder.",
        16990,
        ("black", "forest green", "orange", "slate blue"),
        count=6,
        is_template=_c("{collection} dagpoki, 30 l"),
        nb_template=_c("{collection} dagstursekk, 30 l"),
        is_description="Dagpoki með regnhlíf, vösum á mjaðmabeltinu og hólfi fyrir vatnspoka.",
        nb_description="En dagstursekk med regntrekk, lommer på hoftebeltet og plass til drikkesystem.",
        is_gender="m",
    ),
    ProductLine(
        "backpacks",
        "BPK",
        "{collection} 45 L hiking backpack",
        "An adjustable back system and a lid that comes off as a hip pack.",
        27990,
        ("black", "forest green", "rust red"),
        count=5,
        is_template=_c("{collection} göngubakpoki, 45 l"),
        nb_template=_c("{collection} tursekk, 45 l"),
        is_description="Stillanlegt bakstykki og lok sem má taka af og nota sem mittistösku.",
        nb_description="Justerbart ryggsystem og et lokk som kan tas av og brukes som hoftevesk.",
        is_gender="m",
    ),
    ProductLine(
        "backpacks",
        "BPK",
        "{collection} 65 L trekking backpack",
        "For a week on the Laugavegur trail: a load-carrying frame, side access and a sleeping-bag compartment.",
        37990,
        ("black", "forest green"),
        count=4,
        is_template=_c("{collection} ferðabakpoki, 65 l"),
        nb_template=_c("{collection} fjellsekk, 65 l"),
        is_description="Fyrir viku á Laugaveginum: burðargrind, aðgengi frá hlið og sérhólf fyrir svefnpokann.",
        nb_description="For en uke på Laugavegen: bærende ramme, åpning i siden og eget rom til soveposen.",
        is_gender="m",
    ),
    ProductLine(
        "backpacks",
        "BPK",
        "{collection} roll-top dry bag",
        "A welded, fully waterproof bag for kayaks, boats and rainy bike commutes.",
        5990,
        ("yellow", "orange", "black", "blue"),
        variant_label="Colour",
        count=6,
        is_template=_c("{collection} þurrpoki með upprúllanlegu opi"),
        nb_template=_c("{collection} vanntett pakkpose med rulletopp"),
        is_description="Soðinn og alveg vatnsheldur poki fyrir kajakinn, bátinn og hjólaferðir í vinnuna í rigningu.",
        nb_description="En sveiset, helt vanntett pose for kajakk, båt og regnfulle sykkelturer til jobben.",
        is_gender="m",
    ),
    # Outdoor › Footwear
    ProductLine(
        "footwear",
        "FTW",
        "{collection} hiking boots",
        "Leather hiking boots with a waterproof membrane and a grippy rubber sole for lava fields.",
        32990,
        ("brown", "black"),
        count=5,
        is_template=_c("{collection} gönguskór"),
        nb_template=_c("{collection} fjellstøvler"),
        is_description="Gönguskór úr leðri með vatnsheldri filmu og stömum gúmmísóla fyrir hraunið.",
        nb_description="Fjellstøvler i skinn med vanntett membran og en gummisåle som griper godt på lava og stein.",
        is_gender="mpl",
    ),
    ProductLine(
        "footwear",
        "FTW",
        "{collection} wool-lined winter boots",
        "Warm winter boots lined with wool felt, with a sole that grips on ice.",
        27990,
        ("black", "brown"),
        count=4,
        is_template=_c("{collection} ullarfóðraðir kuldaskór"),
        nb_template=_c("{collection} ullfôrede vinterstøvler"),
        is_description="Hlýir kuldaskór fóðraðir með ullarflóka og með sóla sem grípur í hálku.",
        nb_description="Varme vinterstøvler fôret med ullfilt, med en såle som griper på isen.",
        is_gender="mpl",
    ),
    ProductLine(
        "footwear",
        "FTW",
        "{collection} trail running shoes",
        "Light trail shoes with deep lugs and a rock plate.",
        21990,
        ("black", "blue", "orange"),
        count=4,
        is_template=_c("{collection} utanvegahlaupaskór"),
        nb_template=_c("{collection} terrengløpesko"),
        is_description="Léttir hlaupaskór með djúpu mynstri og steinvörn í sólanum.",
        nb_description="Lette terrengsko med dype knaster og steinplate i sålen.",
        is_gender="mpl",
    ),
    # Home › Blankets & throws
    ProductLine(
        "blankets",
        "BLK",
        "{collection} wool throw",
        "A woven throw in pure new wool, fringed at both ends; 130 × 180 cm.",
        18990,
        COLOURS,
        count=7,
        is_template=_c("{collection} ullarteppi"),
        nb_template=_c("{collection} ullpledd"),
        is_description="Ofið teppi úr hreinni nýrri ull, með kögri á báðum endum; 130 × 180 cm.",
        nb_description="Et vevd pledd i ren ny ull med frynser i begge ender; 130 × 180 cm.",
        is_gender="n",
    ),
    ProductLine(
        "blankets",
        "BLK",
        "{collection} sheepskin rug",
        "A single Icelandic sheepskin with long, soft locks, tanned without chrome.",
        22990,
        ("natural white", "grey", "brown"),
        count=4,
        is_template=_c("{collection} gæra"),
        nb_template=_c("{collection} saueskinn"),
        is_description="Heil íslensk gæra með löngum og mjúkum lokkum, sútuð án króms.",
        nb_description="Et helt islandsk saueskinn med lange, myke lokker, garvet uten krom.",
        is_gender="f",
    ),
    ProductLine(
        "blankets",
        "BLK",
        "{collection} woven cushion cover",
        "A wool cushion cover with a hidden zip, 50 × 50 cm.",
        5990,
        COLOURS,
        count=5,
        is_template=_c("{collection} ofið púðaver"),
        nb_template=_c("{collection} vevd putetrekk"),
        is_description="Púðaver úr ull með földum rennilás, 50 × 50 cm.",
        nb_description="Et putetrekk i ull med skjult glidelås, 50 × 50 cm.",
        is_gender="n",
    ),
    # Home › Ceramics
    ProductLine(
        "ceramics",
        "CER",
        "{collection} stoneware mug",
        "A hand-thrown stoneware mug that holds 350 ml; dishwasher safe.",
        3990,
        GLAZES,
        variant_label="Glaze",
        count=6,
        is_template=_c("{collection} steinleirsbolli"),
        nb_template=_c("{collection} krus i steintøy"),
        is_description="Handrenndur bolli úr steinleir sem tekur 350 ml; þolir uppþvottavél.",
        nb_description="Et dreid krus i steintøy som rommer 350 ml; tåler oppvaskmaskin.",
        is_gender="m",
    ),
    ProductLine(
        "ceramics",
        "CER",
        "{collection} serving bowl",
        "A wide stoneware bowl for salads and stews, 28 cm across.",
        8990,
        GLAZES,
        variant_label="Glaze",
        count=5,
        is_template=_c("{collection} framreiðsluskál"),
        nb_template=_c("{collection} serveringsbolle"),
        is_description="Víð skál úr steinleir fyrir salöt og pottrétti, 28 cm í þvermál.",
        nb_description="En vid bolle i steintøy til salater og gryteretter, 28 cm i diameter.",
        is_gender="f",
    ),
    ProductLine(
        "ceramics",
        "CER",
        "{collection} dinner plate",
        "A rimmed stoneware plate with a speckled glaze, 27 cm.",
        4490,
        GLAZES,
        variant_label="Glaze",
        count=5,
        is_template=_c("{collection} matardiskur"),
        nb_template=_c("{collection} middagstallerken"),
        is_description="Diskur úr steinleir með barmi og doppóttum glerungi, 27 cm.",
        nb_description="En tallerken i steintøy med kant og prikkete glasur, 27 cm.",
        is_gender="m",
    ),
    ProductLine(
        "ceramics",
        "CER",
        "{collection} espresso cup set",
        "Four small cups without handles, each glazed by hand.",
        7990,
        GLAZES,
        variant_label="Glaze",
        count=4,
        is_template=_c("{collection} espressobollar, fjórir saman"),
        nb_template=_c("{collection} espressokopper, sett med fire"),
        is_description="Fjórir litlir bollar án hanka, hver og einn glerjaður í höndunum.",
        nb_description="Fire små kopper uten hank, hver og en glasert for hånd.",
        is_gender="mpl",
    ),
    # Home › Candles
    ProductLine(
        "candles",
        "CND",
        "{collection} scented candle",
        "A rapeseed wax candle in a ceramic pot; about 40 hours of burning.",
        4990,
        ("birch and moss", "sea salt and driftwood", "pine forest", "arctic thyme", "smoked juniper"),
        variant_label="Scent",
        count=8,
        is_template=_c("{collection} ilmkerti"),
        nb_template=_c("{collection} duftlys"),
        is_description="Kerti úr repjuvaxi í keramikkrukku; brennur í um 40 klukkustundir.",
        nb_description="Et lys av rapsvoks i en keramikkrukke; brenner i omtrent 40 timer.",
        words=(
            Words("birki og mosi", "bjørk og mose"),
            Words("sjávarsalt og rekaviður", "havsalt og drivved"),
            Words("furuskógur", "furuskog"),
            Words("blóðberg", "kryptimian"),
            Words("reykt einiber", "røkt einer"),
        ),
    ),
    # Food & Drink › Coffee & tea
    ProductLine(
        "coffee-tea",
        "COF",
        "{collection} coffee beans, 250 g",
        "Whole beans roasted in small batches in Reykjavík.",
        2490,
        ("light roast", "medium roast", "dark roast"),
        variant_label="Roast",
        count=6,
        is_template=_c("{collection} kaffibaunir, 250 g"),
        nb_template=_c("{collection} kaffebønner, 250 g"),
        is_description="Heilar baunir, ristaðar í litlum skömmtum í Reykjavík.",
        nb_description="Hele bønner, brent i små partier i Reykjavík.",
        words=(
            Words("ljósristaðar", "lysbrent", is_label="ljós"),
            Words("miðlungsristaðar", "mellombrent", is_label="miðlungs"),
            Words("dökkristaðar", "mørkbrent", is_label="dökk"),
        ),
    ),
    ProductLine(
        "coffee-tea",
        "COF",
        "{variant} herbal tea",
        "Loose-leaf tea from hand-picked Nordic herbs; 40 g tin.",
        1990,
        ("Arctic thyme", "Birch leaf", "Angelica", "Wild blueberry", "Meadowsweet", "Crowberry and mint"),
        count=6,
        is_template="{variant}",
        nb_template="{variant}",
        is_description="Laust te úr handtíndum norrænum jurtum; 40 g dós.",
        nb_description="Løs te av håndplukkede nordiske urter; boks på 40 g.",
        words=(
            Words("Blóðbergste", "Urtete med kryptimian"),
            Words("Birkilaufate", "Bjørkebladte"),
            Words("Hvannarte", "Kvannete"),
            Words("Villibláberjate", "Te med vill blåbær"),
            Words("Mjaðjurtarte", "Mjødurtte"),
            Words("Krækiberja- og myntute", "Te med krekling og mynte"),
        ),
    ),
    # Food & Drink › Chocolate & liquorice
    ProductLine(
        "chocolate",
        "CHO",
        "{collection} dark chocolate 70%",
        "Single-origin dark chocolate made in Iceland; 100 g.",
        1290,
        ("sea salt", "liquorice", "crowberry", "caramel", "coffee"),
        variant_label="Flavour",
        count=7,
        is_template="{collection} 70% dökkt súkkulaði {variant}",
        nb_template="{collection} mørk sjokolade 70 % {variant}",
        is_description="Dökkt súkkulaði úr baunum frá einu ræktunarsvæði, framleitt á Íslandi; 100 g.",
        nb_description="Mørk sjokolade av bønner fra ett dyrkingsområde, laget på Island; 100 g.",
        words=(
            Words("með sjávarsalti", "med havsalt", is_label="sjávarsalt", nb_label="havsalt"),
            Words("með lakkrís", "med lakris", is_label="lakkrís", nb_label="lakris"),
            Words("með krækiberjum", "med krekling", is_label="krækiber", nb_label="krekling"),
            Words("með karamellu", "med karamell", is_label="karamella", nb_label="karamell"),
            Words("með kaffi", "med kaffe", is_label="kaffi", nb_label="kaffe"),
        ),
    ),
    ProductLine(
        "chocolate",
        "CHO",
        "{variant} liquorice",
        "Icelandic liquorice the way it is eaten at home; 200 g bag.",
        990,
        ("Salty", "Chocolate-coated", "Sweet", "Double salted", "Pepper"),
        count=5,
        is_template="{variant}",
        nb_template="{variant}",
        is_description="Íslenskur lakkrís eins og hann er borðaður heima; 200 g poki.",
        nb_description="Islandsk lakris slik islendingene selv spiser den; pose på 200 g.",
        words=(
            Words("Saltlakkrís", "Salt lakris"),
            Words("Súkkulaðihúðaður lakkrís", "Sjokoladetrukket lakris"),
            Words("Sætur lakkrís", "Søt lakris"),
            Words("Tvísaltaður lakkrís", "Dobbeltsaltet lakris"),
            Words("Piparlakkrís", "Pepperlakris"),
        ),
    ),
    # Food & Drink › Pantry
    ProductLine(
        "pantry",
        "PAN",
        "{variant} jam",
        "Small-batch jam with 60% berries, cooked slowly in copper pans; 230 g jar.",
        1490,
        ("Crowberry", "Rhubarb", "Blueberry", "Lingonberry", "Cloudberry", "Bilberry and vanilla"),
        count=6,
        is_template="{variant}",
        nb_template="{variant}",
        is_description="Sulta soðin í litlum skömmtum með 60% berjum, hægt og rólega í koparpottum; 230 g krukka.",
        nb_description="Syltetøy kokt i små partier med 60 % bær, langsomt i kobberkjeler; glass på 230 g.",
        words=(
            Words("Krækiberjasulta", "Kreklingsyltetøy"),
            Words("Rabarbarasulta", "Rabarbrasyltetøy"),
            Words("Bláberjasulta", "Blåbærsyltetøy"),
            Words("Týtuberjasulta", "Tyttebærsyltetøy"),
            Words("Múltuberjasulta", "Moltesyltetøy"),
            Words("Aðalbláberja- og vanillusulta", "Blåbær- og vaniljesyltetøy"),
        ),
    ),
    ProductLine(
        "pantry",
        "PAN",
        "{variant} sea salt",
        "Flaky salt harvested from the Westfjords with geothermal heat; 125 g.",
        1190,
        ("Flaky", "Birch-smoked", "Arctic thyme", "Lava", "Seaweed"),
        count=5,
        is_template="{variant}",
        nb_template="{variant}",
        is_description="Flögusalt unnið úr sjó á Vestfjörðum með jarðvarma; 125 g.",
        nb_description="Flaksalt utvunnet av sjøvann på Vestfjordene med jordvarme; 125 g.",
        words=(
            Words("Sjávarsaltflögur", "Havsalt i flak"),
            Words("Birkireykt sjávarsalt", "Bjørkerøkt havsalt"),
            Words("Sjávarsalt með blóðbergi", "Havsalt med kryptimian"),
            Words("Svart hraunsalt", "Svart lavasalt"),
            Words("Sjávarsalt með þara", "Havsalt med tang"),
        ),
    ),
    ProductLine(
        "pantry",
        "PAN",
        "{collection} rye flatbread",
        "Thin, crisp rye flatbread for cheese, smoked fish and butter; 200 g.",
        890,
        ("plain", "caraway", "seeded"),
        variant_label="Flavour",
        count=5,
        is_template=_c("{collection} rúgflatkökur"),
        nb_template=_c("{collection} rugflatbrød"),
        is_description="Þunnar og stökkar rúgflatkökur með osti, reyktum fiski og smjöri; 200 g.",
        nb_description="Tynt og sprøtt rugflatbrød til ost, røkt fisk og smør; 200 g.",
        words=(
            Words("hreinar", "naturell", is_label="án krydds"),
            Words("með kúmeni", "med karve", is_label="kúmen", nb_label="karve"),
            Words("með fræjum", "med frø", is_label="fræ", nb_label="frø"),
        ),
    ),
)

# The currency each demo country's shop runs in (settings.SHOP_CURRENCY must match).
COUNTRY_CURRENCIES = {"IS": "ISK", "NO": "NOK"}


def norwegian_price(isk: Decimal) -> Decimal:
    """A Norwegian shelf price for an Icelandic one: about 12.8 krónur to the krone, rounded the
    way Norwegian shops price: 99,90 and 229,90 below 300 kr, 1 949,00 above."""
    kroner = Decimal(isk) / Decimal("12.8")
    if kroner < 300:
        tens = (kroner / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return max(tens * 10, Decimal(10)) - Decimal("0.10")
    fifties = (kroner / 50).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return (fifties * 50 - 1).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    slug: str
    name: str  # English
    category: str
    description: str  # English
    price: Decimal  # in Icelandic krónur
    variant: str
    names: dict[str, str] = field(default_factory=dict, compare=True)  # language → name
    descriptions: dict[str, str] = field(default_factory=dict, compare=True)

    @property
    def vat_class(self) -> str:
        """Food and drink are sold at the reduced VAT rate (IS 11 %, NO 15 %), the rest at the standard."""
        return VatClass.REDUCED if self.category in FOOD_CATEGORIES else VatClass.STANDARD

    def price_in(self, currency: str) -> Decimal:
        if currency == "ISK":
            return self.price
        if currency == "NOK":
            return norwegian_price(self.price)
        raise ValueError(f"the demo has no prices in {currency}")


# Letters slugify would drop rather than spell.
_TRANSLITERATION = str.maketrans(
    {"æ": "ae", "Æ": "Ae", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D", "ø": "o", "Ø": "O", "−": "minus ", "%": " percent"}
)


def demo_slug(text: str) -> str:
    return slugify(text.translate(_TRANSLITERATION))


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def generate_products(rng: random.Random | None = None) -> list[DemoProduct]:
    """The demo catalogue: the same products, SKUs and prices every time (random.Random(42)),
    named and described in English, Icelandic and Norwegian Bokmål."""
    rng = rng or random.Random(SEED)
    products, numbers = [], {}
    for line in PRODUCT_LINES:
        if "{collection}" in line.template:
            choices = list(combinations(line.collections, line.variants))
        else:
            choices = [(None, variant) for variant in line.variants]
        label_is, label_nb = VARIANT_LABELS[line.variant_label]
        for collection, variant in rng.sample(choices, min(line.count, len(choices))):
            words, is_label, nb_label = line.translated_variant(variant)
            if collection is None:
                name = line.template.format(variant=variant)
                description = line.description
                descriptions = {"en": description, "is": line.is_description, "nb": line.nb_description}
            else:
                name = f"{line.template.format(collection=collection)}, {variant}"
                description = f"{line.description} {line.variant_label}: {variant}."
                descriptions = {
                    "en": description,
                    "is": f"{line.is_description} {label_is}: {is_label}.",
                    "nb": f"{line.nb_description} {label_nb}: {nb_label}.",
                }
            names = {
                "en": name,
                "is": _capitalised(line.is_template.format(collection=collection, variant=words.is_)),
                "nb": _capitalised(line.nb_template.format(collection=collection, variant=words.nb)),
            }
            numbers[line.sku_prefix] = numbers.get(line.sku_prefix, 0) + 1
            sku = f"NB-{line.sku_prefix}-{numbers[line.sku_prefix]:03d}"
            # Dearer lines vary by whole thousands, so prices keep ending in 990.
            step = rng.choice((-1000, 0, 0, 0, 1000, 2000)) if line.price >= 5000 else 0
            price = line.price + step
            products.append(
                DemoProduct(
                    sku=sku,
                    slug=demo_slug(name),
                    name=name,
                    category=line.category,
                    description=description,
                    price=Decimal(price),
                    variant=variant,
                    names=names,
                    descriptions=descriptions,
                )
            )
    slugs = [product.slug for product in products]
    if len(set(slugs)) != len(slugs):
        raise ValueError("two demo products would share a slug; make their names differ")
    return products


# Sizes: the demo's clothing and footwear are sold in sizes (catalog variants). Each product above
# is a style; its sizes are the variants, with their own SKUs and stock in every store.
SIZE_NAMES = {"en": "Size", "is": "Stærð", "nb": "Størrelse"}
CLOTHING_SIZES = ("XS", "S", "M", "L", "XL")
SHOE_SIZES = tuple(str(size) for size in range(38, 46))  # EU
SIZES_BY_CATEGORY = {
    "knitwear": CLOTHING_SIZES,
    "outerwear": CLOTHING_SIZES,
    "base-layers": CLOTHING_SIZES,
    "footwear": SHOE_SIZES,
}
# In the order shops list them (the picker and the filter): S before M before L, 38 before 39.
ALL_SIZES = CLOTHING_SIZES + SHOE_SIZES


@dataclass(frozen=True)
class DemoSize:
    sku: str
    parent_sku: str
    size: str


def generate_sizes(products: list[DemoProduct] | None = None) -> list[DemoSize]:
    """A variant per size of every sized product: NB-KNT-001-M, NB-FTW-003-42."""
    return [
        DemoSize(sku=f"{product.sku}-{size}", parent_sku=product.sku, size=size)
        for product in products or generate_products()
        for size in SIZES_BY_CATEGORY.get(product.category, ())
    ]


def sold_skus(products: list[DemoProduct] | None = None) -> list[str]:
    """What the shop sells and stocks: each product without sizes, and each size of the others
    (a sweater is not on a shelf, its sizes are)."""
    products = products or generate_products()
    sizes = {}
    for size in generate_sizes(products):
        sizes.setdefault(size.parent_sku, []).append(size.sku)
    return [sku for product in products for sku in sizes.get(product.sku, [product.sku])]


def stock_counts(*, store_slugs, skus, rng: random.Random | None = None) -> dict[tuple[str, str], int]:
    """Units on hand per (store slug, SKU): mostly a handful, sometimes one or two, some sold out."""
    rng = rng or random.Random(SEED)
    counts = {}
    for store_slug in store_slugs:
        for sku in skus:
            roll = rng.random()
            if roll < 0.12:
                counts[store_slug, sku] = 0
            elif roll < 0.25:
                counts[store_slug, sku] = rng.randint(1, 2)
            else:
                counts[store_slug, sku] = rng.randint(3, 30)
    return counts
