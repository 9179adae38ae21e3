"""Fact tables behind the stub model's answers: each row carries the answer it implies."""

from __future__ import annotations

import re

from pipeline.stub.families.helpers import split_items as _s
from pipeline.stub.families.helpers import split_rows as _rows

FACTS = _s("""Water boils at 100 degrees Celsius at sea level.|The Earth orbits the Sun once a
year.| Spiders have eight legs.|Sound travels faster in water than in air.| The Pacific is the
largest ocean on Earth.|Bats are mammals.|The human heart has four chambers.| Mount Everest is the
highest mountain above sea level.|Light from the Sun reaches Earth in about eight minutes.|Honey
bees communicate by dancing.|Penguins cannot fly.|Diamonds are a form of carbon.""")
OPINIONS = _s("""Everyone should own a {product}.|Summer is the best season of the year.| The food
in {city} is better than anywhere else.|Mornings are the most productive part of the day.| Board
games are more fun than any other hobby.|{city} is the most beautiful city in the world.| Cats make
better pets than dogs.|Working from home is always more pleasant than working in an office.| Paper
books are nicer to read than e-books.|Nobody needs more than one pair of shoes.""")

# category name (plural) -> members; used for sorting, odd-one-out and short "name three" tasks
CATEGORIES = {
    "fruits": _s("""apple|banana|mango|pear|cherry|pineapple|plum|kiwi|apricot|grape"""),
    "vegetables": _s(
        """carrot|spinach|broccoli|cabbage|potato|onion|lettuce|cauliflower|celery|beet"""
    ),
    "mammals": _s("""dolphin|whale|bat|elephant|rabbit|horse|otter|camel"""),
    "birds": _s("""penguin|eagle|sparrow|ostrich|owl|parrot|pelican|robin"""),
    "reptiles": _s("""lizard|crocodile|turtle|snake|gecko|iguana"""),
    "fish": _s("""salmon|shark|tuna|trout|goldfish|cod"""),
    "insects": _s("""ant|beetle|butterfly|bee|mosquito|grasshopper"""),
    "renewable energy sources": _s(
        """solar power|wind power|hydropower|geothermal heat|tidal power"""
    ),
    "non-renewable energy sources": _s("""coal|natural gas|crude oil|uranium|oil shale"""),
    "electrical conductors": _s("""copper|aluminum|silver|gold|iron|graphite"""),
    "electrical insulators": _s("""rubber|glass|plastic|dry wood|ceramic|cotton"""),
    "nouns": _s("""table|happiness|river|teacher|idea|mountain|window|courage"""),
    "verbs": _s("""run|whisper|build|forget|carry|jump|borrow|explain"""),
    "adjectives": _s("""bright|gentle|noisy|ancient|brave|fragile|clumsy|eager"""),
    "string instruments": _s("""violin|guitar|cello|harp|banjo|ukulele"""),
    "planets": _s("""Mercury|Venus|Earth|Mars|Jupiter|Saturn|Uranus|Neptune"""),
}
# which categories may be contrasted in one sorting task
CATEGORY_PAIRS = (
    ("fruits", "vegetables"),
    ("mammals", "birds", "reptiles"),
    ("fish", "insects", "birds"),
    ("renewable energy sources", "non-renewable energy sources"),
    ("electrical conductors", "electrical insulators"),
    ("nouns", "verbs", "adjectives"),
)

# country | capital | continent
COUNTRIES = _rows("""France|Paris|Europe;Japan|Tokyo|Asia;Kenya|Nairobi|Africa;Canada|Ottawa| North
America;Brazil|Brasilia|South America;Australia|Canberra|Oceania;Egypt|Cairo|Africa;
Germany|Berlin|Europe;India|New Delhi|Asia;Mexico|Mexico City|North America;Argentina|Buenos Aires|
South America;Spain|Madrid|Europe;Italy|Rome|Europe;Norway|Oslo|Europe;Peru|Lima|South America;
Chile|Santiago|South America;Nigeria|Abuja|Africa;Ghana|Accra|Africa;Morocco|Rabat|Africa;
Thailand|Bangkok|Asia;Vietnam|Hanoi|Asia;South Korea|Seoul|Asia;Poland|Warsaw|Europe;
Portugal|Lisbon|Europe;Sweden|Stockholm|Europe;Finland|Helsinki|Europe;Greece|Athens|Europe;
Ireland|Dublin|Europe;New Zealand|Wellington|Oceania;Colombia|Bogota|South America;
Cuba|Havana|North America;Austria|Vienna|Europe;Hungary|Budapest|Europe;Ethiopia|Addis Ababa|
Africa;Switzerland|Bern|Europe;Pakistan|Islamabad|Asia;Uruguay|Montevideo|South America;
Senegal|Dakar|Africa;Jamaica|Kingston|North America;Philippines|Manila|Asia""")
ELEMENTS = _rows("""hydrogen|H;helium|He;carbon|C;nitrogen|N;oxygen|O;sodium|Na;magnesium|Mg;
aluminum|Al;silicon|Si;chlorine|Cl;potassium|K;calcium|Ca;iron|Fe;copper|Cu;zinc|Zn;silver|Ag;
tin|Sn;gold|Au;mercury|Hg;lead|Pb;neon|Ne;sulfur|S;phosphorus|P;iodine|I;nickel|Ni""")

# concept | domain | what it is (completes "X is ...")
CONCEPTS = _rows("""photosynthesis|science|the process green plants use to turn sunlight, water and
carbon dioxide into sugar, giving off oxygen;gravity|science|the pull that every mass exerts on
every other mass, which keeps us on the ground and the Moon in orbit;evaporation|science|the change
of a liquid into a gas at its surface, as when a puddle dries in the sun;an ecosystem|science|a
community of living things together with the soil, water and climate they depend on;natural
selection|science|the process by which traits that help organisms survive become more common over
generations;the water cycle|science|the endless movement of water from oceans to clouds to rain and
back again;inertia|science|the tendency of an object to keep doing what it is doing unless a force
changes it;a chemical reaction|science|a change in which substances rearrange their atoms to form
new substances;plate tectonics|science|the slow movement of the huge rock plates that make up the
Earth's outer shell;a vaccine|science|a preparation that trains the immune system to recognize a
germ before a real infection;the greenhouse effect|science|the warming that happens when gases in
the air trap heat radiated by the Earth;friction|science|the force that resists two surfaces
sliding against each other;erosion|science|the gradual wearing away of rock and soil by water, wind
or ice; inflation|economics|a general rise in prices that means each unit of money buys less;supply
and demand|economics|the idea that prices settle where the amount people want matches the amount
offered;compound interest|economics|interest earned on both the original sum and the interest
already added to it;opportunity cost|economics|the value of the best option you give up when you
make a choice;a recession|economics|a period when a country's economic output shrinks for several
months in a row;diversification|economics|spreading money across different investments so one loss
does less damage;a budget|economics|a plan that matches expected income with planned spending;
machine learning|technology|a way of building software that learns patterns from examples instead
of following hand-written rules;encryption|technology|scrambling data with a key so that only
someone with the right key can read it;cloud computing|technology|renting computing power and
storage over the internet instead of owning the machines;an API|technology|a set of agreed requests
that lets one program ask another for data or actions;a database|technology|an organized store of
information that software can search and update quickly;two-factor authentication|technology|a
login check that asks for a second proof, such as a code, besides the password;open-source
software|technology|software whose source code anyone may read, change and share;an algorithm|
technology|a precise list of steps for solving a problem;democracy|society|a system of government
in which citizens choose their leaders through free elections;recycling|society|turning used
materials into new products instead of throwing them away;mindfulness|society|the habit of paying
calm attention to the present moment without judging it;a metaphor|society|a figure of speech that
describes one thing as if it were another;the scientific method|science|a cycle of asking
questions, testing ideas with experiments and revising them based on
evidence;biodiversity|science|the variety of living things in a place, from genes to whole
ecosystems;a carbon footprint|society|the total greenhouse gases caused by a person, product or
activity;procrastination|society|putting off tasks that matter, often in favor of easier or more
pleasant ones;empathy|society|the ability to understand and share the feelings of another person""")
DOMAIN_NOTES = {
    "science": _s("""Scientists learn about it by observing carefully and testing their ideas.| You
can see it at work in everyday life if you know where to look.| It is one of the basic ideas that
much of modern science builds on."""),
    "economics": _s("""It affects how households and businesses plan their money.| Understanding it
helps people make better financial decisions.| Economists watch it closely because it shapes prices
and jobs."""),
    "technology": _s("""Most people use it every day without noticing.| It makes many online
services faster, safer or easier to build.| Developers rely on it to build reliable software."""),
    "society": _s("""It shapes how people live and work together.| It is easier to grasp with a
concrete example from daily life.| Many schools and workplaces now talk about it openly."""),
}


# base | third person | past | past participle | objects
VERBS = _rows("""clean|cleans|cleaned|cleaned|the kitchen/the windows/the garage;write|writes|wrote|
written|a letter/a report/a short poem;bake|bakes|baked|baked|bread/a cake/cookies;repair|repairs|
repaired|repaired|the fence/an old radio/the bike;paint|paints|painted|painted|the door/a portrait/
the bedroom;plant|plants|planted|planted|tomatoes/a tree/sunflowers;cook|cooks|cooked|cooked|
dinner/soup/rice;wash|washes|washed|washed|the car/the dishes/the
dog;carry|carries|carried|carried| the boxes/the groceries/a heavy
bag;teach|teaches|taught|taught|math/a yoga class/the new players; build|builds|built|built|a
treehouse/a bookshelf/a sandcastle;sing|sings|sang|sung|a song/the anthem/a
lullaby;drive|drives|drove|driven|the van/a truck/the tractor;feed|feeds|fed|fed|the cat/ the
chickens/the fish;catch|catches|caught|caught|the ball/a fish/the early train;buy|buys|bought|
bought|fresh bread/a new phone/flowers;send|sends|sent|sent|an email/a postcard/the invoice;fix|
fixes|fixed|fixed|the leaking tap/the printer/a flat tire;water|waters|watered|watered|the plants/
the garden/the lawn;sweep|sweeps|swept|swept|the floor/the porch/the yard;choose|chooses|chose|
chosen|a gift/the menu/a new book;bring|brings|brought|brought|snacks/an umbrella/the tickets""")
SINGULAR = _s("""Maria|James|Aisha|Kenji|my neighbor|the manager|our teacher|the old farmer|my
brother|the new intern|Grandpa|the chef""")
PLURAL = _s("""the children|my parents|the engineers|the volunteers|our neighbors|the students| the
twins|the nurses""")
WHEN_NOW = _s("""every morning|on Saturdays|twice a week|after lunch|every evening|each spring""")
WHEN_PAST = _s("""yesterday|last week|on Monday|two days ago|last summer|this morning""")
CONFUSIONS = _rows("""I think {a} is taller {x} {b}.|then|than;The team lost {x} first match of the
season.|it's|its;{a} and {b} forgot {x} umbrellas at the cafe.|there|their;Please tell me if {x}
coming to {city} next week.|your|you're;{a} could {x} the race if the rain gets worse.|loose|
lose;The new rules will {x} everyone who works late.|effect|affect""")

# what the function does | function name | body, where "~N" is a line break and N indent levels
CODE = _rows("""reverses a string|reverse_text|def {f}(text):~1return text[::-1];counts the vowels
in a string|count_vowels|def {f}(text):~1return sum(1 for ch in text.lower() if ch in "aeiou");
checks whether a word is a palindrome|is_palindrome|def {f}(word):~1w = word.lower()~1return w ==
w[::-1];returns the largest number in a list|largest|def {f}(numbers):~1best = numbers[0]~1for n in
numbers:~2if n > best:~3best = n~1return best;computes the factorial of a number|factorial|def
{f}(n):~1result = 1~1for i in range(2, n + 1):~2result *= i~1return result;removes duplicates from
a list but keeps the order|unique|def {f}(items):~1return list(dict.fromkeys(items)); converts
Celsius to Fahrenheit|to_fahrenheit|def {f}(celsius):~1return celsius * 9 / 5 + 32; counts how
often each word appears in a sentence|word_counts|def {f}(sentence):~1counts = dict()~1for w in
sentence.lower().split():~2counts[w] = counts.get(w, 0) + 1~1return counts; checks whether a number
is prime|is_prime|def {f}(n):~1if n < 2:~2return False~1return all(n % d for d in range(2, int(n **
0.5) + 1));returns the average of a list of numbers|average|def {f}(numbers):~1return sum(numbers)
/ len(numbers);returns only the even numbers from a list|evens| def {f}(numbers):~1return [n for n
in numbers if n % 2 == 0];capitalizes the first letter of every word|title_words|def
{f}(text):~1return " ".join(w.capitalize() for w in text.split())""")
CODE = tuple(
    (what, name, re.sub(r" ?~(\d) ?", lambda m: "\n" + "    " * int(m[1]), body))
    for what, name, body in CODE
)
# table | row noun | numeric columns | grouping columns
TABLES = _rows("""customers|customers|age/credit_limit|city/country;orders|orders|total/quantity|
status/customer_id;products|products|price/stock|category/supplier;employees|employees|salary/
years_of_service|department/office;students|students|score/age|grade/school;books|books|pages/
price|author/genre""")
# English | French | Spanish | German
PHRASES = _rows("""Good morning.|Bonjour.|Buenos días.|Guten Morgen.;Thank you very much.|Merci
beaucoup.|Muchas gracias.|Vielen Dank.;Where is the train station?|Où est la gare ?|¿Dónde está la
estación de tren?|Wo ist der Bahnhof?;How much does this cost?|Combien ça coûte ?|¿Cuánto cuesta
esto?|Wie viel kostet das?;The weather is nice today.|Il fait beau aujourd'hui.|Hace buen tiempo
hoy.|Das Wetter ist heute schön.;I do not understand.|Je ne comprends pas.|No entiendo.|Ich
verstehe nicht.;See you tomorrow.|À demain.|Hasta mañana.|Bis morgen.;I am hungry.|J'ai faim.|
Tengo hambre.|Ich habe Hunger.;The book is on the table.|Le livre est sur la table.|El libro está
sobre la mesa.|Das Buch liegt auf dem Tisch.;Can you help me, please?|Pouvez-vous m'aider, s'il
vous plaît ?|¿Puede ayudarme, por favor?|Können Sie mir bitte helfen?""")
LANGUAGES = ("French", "Spanish", "German")

# kind of recommendation -> items with a reason
RECS = {
    "houseplants": _s("""a snake plant, which copes with low light and irregular watering|a pothos,
which grows quickly and forgives beginners|a spider plant, which is easy to propagate|a ZZ plant,
which needs water only every few weeks|a peace lily, which droops to show it is thirsty|an aloe
vera, which likes sun and very little water"""),
    "hobbies": _s("""journaling, which needs only a notebook and ten minutes a day|bird watching,
which gets you outdoors and builds patience|chess, which sharpens planning skills|baking bread,
which is relaxing and ends with something to share|knitting, which is portable and
calming|volunteering, which connects you with your community|learning to juggle, which is cheap and
improves coordination"""),
    "healthy snacks": _s("""a handful of almonds|apple slices with peanut butter|plain yogurt with
berries|hummus with carrot sticks|a boiled egg|air-popped popcorn|whole-grain crackers with
cheese"""),
    "exercises that need no equipment": _s("""bodyweight squats|wall push-ups|a thirty-second
plank|walking lunges|jumping jacks|glute bridges|a slow yoga sequence"""),
    "games for a group": _s("""charades|a trivia quiz|a scavenger hunt|dominoes|Scrabble|a round of
word association|hide and seek"""),
}
# choice | an advantage | a drawback
PROS_CONS = _rows("""working from home|no commute and more flexible hours|it can feel isolating;
buying an electric car|lower running and repair costs|a higher purchase price;living in a big
city|more jobs, events and transport options|higher rent and more noise;learning online|a flexible
schedule at your own pace|less face-to-face contact;owning a dog|companionship and daily
exercise|it needs time and money every day;using public transport|it is cheaper and greener than
driving|you depend on timetables;renting instead of buying a home|freedom to move easily|no equity
is built up;freelancing|choosing your own projects and hours|an irregular income;studying abroad|a
new language and a wider view of the world|high costs and distance from family;installing solar
panels|lower energy bills over time|a high installation cost;a vegetarian diet|it is often
healthier and better for the climate|meals need some planning for protein;paying without cash|speed
and convenience|it is easier to overspend;a four-day work week|more time to rest| longer working
days""")
# task | steps separated by "/"
HOWTO = _rows("""boil an egg|Place the egg in a small pot and cover it with cold water./Bring the
water to a boil./Simmer for seven minutes for a firm yolk./Cool the egg in cold water before
peeling it.;fix a flat bicycle tire|Remove the wheel and take off the tire with tire levers./Find
the hole by pumping up the tube and listening for air./Patch the hole or fit a new tube./Refit the
tire and pump it to the pressure printed on its side.;write a cover letter|Open with the job title
and why it interests you./Match two or three of your achievements to the job's needs./Explain what
you would bring to the team./Close by thanking the reader and asking for an interview.;back up a
phone|Connect to Wi-Fi and a charger./Open the backup section of the settings./Choose cloud storage
or a computer as the destination./Start the backup and check that it finished.;prepare for a day
hike|Check the weather and the length of the trail./Pack water, snacks, a map and a warm
layer./Tell someone your route and return time./Wear broken-in shoes and start early.;make a simple
monthly budget|List your income after tax./Write down fixed costs such as rent and bills./Set
limits for food, transport and fun./Save what is left and review the plan each month.;wash a wool
sweater|Fill a basin with cool water and a little wool detergent./Soak the sweater gently for ten
minutes without rubbing./Rinse in cool water and press out the water./Dry it flat on a towel away
from heat.""")
# word | synonym | antonym | meaning
WORDS = _rows("""happy|glad|sad|feeling pleasure or contentment;brave|courageous|cowardly|ready to
face danger or pain;ancient|old|modern|belonging to the very distant past;generous|giving|stingy|
willing to give more than is expected;fragile|delicate|sturdy|easily broken or damaged;rapid|
quick|slow|happening at great speed;abundant|plentiful|scarce|existing in large amounts;calm|
peaceful|agitated|not showing worry or strong emotion;expand|enlarge|shrink|to become or make
larger;accept|receive|reject|to agree to take something offered;honest|truthful|deceitful|telling
the truth and not cheating;humble|modest|arrogant|not proud of oneself;visible|noticeable|hidden|
able to be seen;permanent|lasting|temporary|meant to last for a very long time;optimistic|hopeful|
pessimistic|expecting good things to happen;diligent|hard-working|lazy|showing steady care and
effort in work;vast|huge|tiny|extremely large in area or amount;frequent|regular|rare|happening
often""")
YOUNG = _rows("""dog|puppy;cat|kitten;cow|calf;horse|foal;sheep|lamb;goose|gosling;lion|cub;frog|
tadpole;deer|fawn;kangaroo|joey;owl|owlet;swan|cygnet""")
# from | to | factor (or "C2F")
UNITS = _rows("""kilometers|miles|0.621371;miles|kilometers|1.609344;kilograms|pounds|2.20462;
pounds|kilograms|0.453592;liters|US gallons|0.264172;inches|centimeters|2.54;meters|feet|3.28084;
hours|minutes|60;days|hours|24;degrees Celsius|degrees Fahrenheit|C2F""")
LABELS = {
    "fruits": "fruit",
    "vegetables": "vegetable",
    "mammals": "mammal",
    "birds": "bird",
    "reptiles": "reptile",
    "fish": "fish",
    "insects": "insect",
    "renewable energy sources": "renewable",
    "non-renewable energy sources": "non-renewable",
    "electrical conductors": "conductor",
    "electrical insulators": "insulator",
    "nouns": "noun",
    "verbs": "verb",
    "adjectives": "adjective",
}
# casual | formal
REGISTER = _rows("""hey {name}, can u send me the report asap?|Hello {name}, could you please send
me the report as soon as possible?;sorry, can't make it to the meeting tmrw, something came up|I
apologize, but I will be unable to attend tomorrow's meeting because of an unexpected
commitment.;thx for the help yesterday, u saved me big time!|Thank you for your help yesterday, as
it made a real difference.;the {product} i got is kinda broken, can i get my money back?|The
{product} I recently purchased does not work properly. Could I please receive a refund?;gonna be
late, traffic is crazy|I will be arriving late because of heavy traffic.;can we push the call to
friday? swamped rn|Would it be possible to move our call to Friday? I am very busy at the
moment.;{name} wants the slides by noon, no excuses|{name} has asked for the slides to be ready by
noon.;loved ur talk, super useful stuff|I greatly enjoyed your talk and found it very useful.;no
worries, happens to everyone|Please do not worry, as this happens to everyone.""")


def _split_slashes(table: tuple[tuple[str, ...], ...], *cols: int) -> tuple[tuple, ...]:
    """Turn the "/"-separated fields of `cols` into tuples of stripped items."""
    return tuple(
        tuple(tuple(x.strip() for x in f.split("/")) if i in cols else f for i, f in enumerate(row))
        for row in table
    )


VERBS = _split_slashes(VERBS, 4)
TABLES = _split_slashes(TABLES, 2, 3)
HOWTO = _split_slashes(HOWTO, 1)
