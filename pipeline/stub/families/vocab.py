"""Word lists the stub model writes its tasks from (all our own wording)."""

from __future__ import annotations

from pipeline.stub.families.helpers import split_items as _s

NAMES = _s("""Maria|James|Aisha|Kenji|Lucas|Priya|Omar|Elena|Noah|Fatima|Diego|Hannah|Wei|Chloe|
Samuel|Amara|Ivan|Sofia|Mateo|Grace|Tariq|Lena|Daniel|Yuki|Rosa|Ethan|Nadia|Felix|Zara|Leo|Mia|
Arjun|Clara|Hugo|Ines|Jonah|Keiko|Marcus|Olga|Rahul""")


CITIES = _s("""Lisbon|Denver|Nairobi|Osaka|Toronto|Melbourne|Austin|Manchester|Lyon|Valencia|
Seattle|Cape Town|Dublin|Krakow|Porto|Montreal|Auckland|Chicago|Edinburgh|Hamburg|Bogota|
Singapore|Helsinki|Atlanta|Bristol|Vancouver|Phoenix|Glasgow|Adelaide|Boston""")


MONTHS = _s("""January|February|March|April|May|June|July|August|September|October|November|
December""")


WEEKDAYS = _s("""Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday""")


ORG_HEADS = _s(
    """North|Blue|Silver|Green|Bright|Summit|Harbor|Oak|Pine|River|Sun|Stone|Maple|Clear"""
)


ORG_TAILS = _s("""Labs|Foods|Energy|Motors|Health|Books|Logistics|Systems|Studios|Outfitters|
Robotics|Telecom|Textiles|Mobility""")


PRODUCTS = _s("""pair of wireless earbuds|standing desk|electric kettle|pair of running shoes|air
fryer| phone case|robot vacuum|yoga mat|hiking backpack|smartwatch|blender|desk lamp|office chair|
camping tent|water bottle|mechanical keyboard|winter jacket|coffee grinder|e-reader|bike helmet|
travel pillow|portable charger|rice cooker|bluetooth speaker|pair of hiking boots|frying pan|
mattress|laptop stand|stroller|electric toothbrush|gaming mouse|sewing machine|garden hose|
weighted blanket|slow cooker|fitness tracker|suitcase|printer|toaster|pressure cooker""")


SERVICES = _s("""restaurant|hotel|dental clinic|car wash|museum|cafe|gym|bakery|hair salon|
campground|bookshop|pizza place|airline|train service|language course|online course|banking app|
streaming service|theme park|spa|cinema|moving company|food delivery app|plumber|pet groomer""")


REVIEW_KINDS = _s("""review|customer comment|tweet|forum post|product rating|feedback note| survey
answer|online review|app store review|comment""")


REVIEW_OPENERS = _s("""I tried the {x} last week and it|Our family's new {x}|The {x} I ordered| This
{x}|Honestly, the {x}|After a month of use, this {x}|The {x} my sister recommended| The {x} near my
office""")


REVIEW_PREDICATES = {
    "Positive": _s("""exceeded my expectations in every way|was worth every penny| made my week
noticeably easier|turned out far better than the photos suggested| left a great impression on the
whole family|is something I would happily recommend| was a pleasant surprise from start to
finish|felt thoughtfully designed and well made"""),
    "Negative": _s("""was a complete waste of money|fell far short of what was promised| left me
frustrated and annoyed|is not something I would ever recommend| was disappointing from start to
finish|made me regret choosing it| had problems that nobody bothered to fix|broke my trust after
the first day"""),
    "Neutral": _s("""was about what I expected, nothing more and nothing less| was fine, though not
memorable|does the job without any special touches| had some good points and some weaker ones|was
average overall| seemed acceptable for the price"""),
}


REVIEW_CODAS = {
    "Positive": _s("""I would choose it again without hesitation.|Five stars from me.| The staff
even followed up to check on me.|It has quickly become part of my routine."""),
    "Negative": _s("""I asked for a refund the same day.|Customer service never replied to my
emails.| Save your money.|I will not be going back."""),
    "Neutral": _s("""It is okay for the price.|I have no strong feelings either way.| Maybe I will
give it another try later.|It neither impressed nor upset me."""),
}


HEADLINES = {
    "Sports": _s("""{city} edge their rivals 2-1 in a tense season opener| {name} sets a national
record in the 400 meters|{city} marathon draws a record crowd| Veteran goalkeeper announces
retirement after fifteen seasons| Underdog team from {city} reaches the cup final"""),
    "Politics": _s("""Parliament debates new tax plan late into the night| Mayor of {city} announces
a run for a second term| Senators strike a deal on road and bridge spending| Voters in {city} head
to the polls in a close local election"""),
    "Technology": _s("""{org} unveils a foldable laptop with a two-day battery| New chip promises
faster phones that use less power| Researchers warn of a security flaw in popular home routers|
{org} launches an app that translates speech in real time"""),
    "Health": _s("""Study links daily walks to a lower risk of heart disease| Hospitals in {city}
report a rise in flu cases| New guidelines urge less added sugar for young children| Doctors test a
simpler treatment for seasonal allergies"""),
    "Business": _s("""{org} shares jump after strong quarterly earnings| Retail sales fall for the
third month in a row| {org} to cut hundreds of jobs as demand slows|Central bank holds interest
rates steady"""),
    "Science": _s("""Astronomers spot a planet that orbits two suns| Fossil found near {city} may
belong to a new dinosaur species| Biologists discover a frog that glows under ultraviolet light|
Telescope captures light from the early universe"""),
    "Entertainment": _s("""{name}'s debut novel tops the bestseller list| {city} festival announces
its summer lineup| Long-running sitcom to end after its tenth season| Animated film breaks opening
weekend records"""),
}


SPAM = _s("""Congratulations! You have won a free {product}. Click the link within 24 hours to claim
it.| Your account has been suspended. Confirm your password at this link to avoid losing access.|
Earn 5,000 dollars a week from home with no experience. Reply YES to start today!| URGENT: your
parcel is on hold. Pay a small release fee at the link below.| You are pre-approved for a
low-interest loan. No credit check needed, apply now!| Limited offer: buy one {product} and get
three free. Only today, act fast!""")


HAM = _s("""Hi {name}, are we still meeting for lunch on {day}?| The team meeting has moved to 3 pm
on {day} in room 4B.| Thanks for sending the photos from the trip, they look great!| Reminder: the
library book you borrowed is due back on {day}.| Can you pick up milk and bread on your way home?|
Your order of a {product} has shipped and should arrive on {day}.""")


# domain -> (goals phrased to follow "ways to", tips as full sentences)
GOALS = {
    "health": _s("""sleep better at night|drink more water during the day|eat more vegetables| stay
active while working from home|reduce stress before exams|keep a healthy posture at a desk|cut down
on sugary snacks|start running as a complete beginner"""),
    "money": _s("""save money on groceries|pay off a credit card faster|build an emergency fund|
lower the monthly electricity bill|plan a budget for a family holiday|spend less on takeout
food|teach teenagers how to manage pocket money"""),
    "work": _s("""prepare for a job interview|learn a new language faster|stay focused while
studying|manage time at a busy job|give a confident presentation|remember more of what you read|run
shorter and more useful meetings|ask for a raise"""),
    "home": _s("""keep a small apartment tidy|help a vegetable garden survive a dry summer|reduce
food waste at home|make a home office more comfortable|get children to help with chores| organize a
cluttered kitchen|keep houseplants alive while traveling"""),
    "planet": _s("""use less plastic|make a neighborhood greener|get coworkers to recycle|lower a
household's carbon footprint|encourage more people to cycle to work|save water at home| make a
school more environmentally friendly"""),
    "social": _s("""make new friends after moving to a new city|become a better listener|stay in
touch with old friends|handle criticism calmly|start conversations at networking events| resolve a
disagreement with a roommate|welcome a new colleague to the team"""),
}


TIPS = {
    "health": _s("""Keep a regular schedule, even on weekends.|Put your phone away an hour before
bed.|Take a short walk after meals.|Keep a water bottle within reach at your desk.|Plan your meals
for the week in advance.|Set small goals and track them in a notebook.|Swap sugary drinks for water
or tea.|Stand up and stretch for a few minutes every hour."""),
    "money": _s("""Write a shopping list and stick to it.|Compare unit prices rather than package
prices.|Move a fixed amount to savings on payday.|Cancel subscriptions you have not used in a
month.|Pay more than the minimum whenever you can.|Switch devices off at the wall when they are not
in use.|Track every expense for a month to see where the money goes.| Cook larger batches and
freeze the extra portions."""),
    "work": _s("""Break large tasks into small, concrete steps.|Practice out loud in front of a
friend.|Study in short, timed sessions with breaks.|Review your notes within a day of writing
them.|Turn off notifications while you work.|Prepare a few stories that show your
strengths.|Explain the material to someone else.|Write down tomorrow's top three priorities before
you finish for the day."""),
    "home": _s("""Give every item a fixed place to return to.|Spend ten minutes tidying every
evening.|Water plants early in the morning.|Keep leftovers in clear containers so you can see
them.|Put your desk near a window for natural light.|Turn chores into a game with a simple reward
chart.|Use mulch to keep moisture in the soil.|Donate things you have not used in a year."""),
    "planet": _s("""Carry a reusable bag and bottle everywhere.|Organize a monthly clean-up with
neighbors.|Put clearly labeled bins in shared spaces.|Choose trains or buses for short trips.|Start
a shared tool library on your street.|Buy loose produce instead of packaged.|Plant native trees and
flowers in empty spaces.|Share success stories to keep people motivated."""),
    "social": _s("""Join a club built around something you enjoy.|Ask open questions and let the
other person finish.|Schedule a regular call with people you miss.|Pause and breathe before you
respond.|Say yes to invitations, even small ones.|Repeat back what you heard to check you
understood.|Volunteer for a local cause.|Thank people for honest feedback."""),
}


AUDIENCES = _s("""a ten-year-old|a first-year university student|a busy parent|a retired engineer|
someone who has never heard of it|a high school class|a new employee|a curious teenager|my
grandmother|a non-native English speaker|a group of nurses|a small business owner|a software
developer|an art student|a farmer|a journalist|a room full of investors|a primary school teacher""")


PEOPLE = _s("""a busy nurse|a retired couple|a college student on a tight budget|someone who just
moved to a new city|a family with two young children|a person who works from home|a shy teenager|a
new manager|an older adult who lives alone|a night-shift worker|a first-time traveler|a graduate
student writing a thesis""")


TOPICS = _s("""recycling at school|the four-day work week|learning a second language|online
privacy|eating less meat|public libraries|electric scooters in cities|homework for young
children|space exploration|volunteering|fast fashion|remote work|screen time for kids|local farmers
markets|cycling to work|saving for retirement|reading before bed|team sports|tiny houses|artificial
intelligence in classrooms|school uniforms|city parks|composting|public transport|voting at
sixteen|working part-time as a student|plant-based diets|the history of bicycles|learning to
code|ocean pollution|urban beekeeping|unpaid internships|digital detox weekends|community
gardens|self-driving cars|night markets|board game cafes|minimalism|the future of
newspapers|wildfire prevention""")


CHARACTERS = _s("""a retired lighthouse keeper|a nervous young chef|a girl who collects old keys|a
robot that works in a bakery|a lonely astronaut|a stray cat in a busy market|an old fisherman|a shy
librarian|a woman who runs a food truck|a detective who is afraid of the dark|a talking parrot|a
teenage inventor|a tired taxi driver|a village baker|a young gardener|a forgetful wizard|a mail
carrier on her last day|a grandfather learning to skate""")


SITUATIONS = _s("""finds a mysterious letter under the door|gets lost on the way to an important
meeting|wins a contest they never entered|discovers a hidden room at home|has to save their town
from a flood|must cook dinner for a famous guest|loses their voice the day before a big speech|
befriends a neighbor they used to avoid|receives a package with no return address|wakes up able to
understand animals|misses the last train home|finds a wallet full of old coins""")


SETTINGS = _s("""on a snowy mountain|in a floating city|in a quiet seaside village|on a night
train|in a crowded market|at the bottom of the sea|in an abandoned factory|during a summer
festival|on a farm at harvest time|in a library after closing time|on a small island|in a desert
town""")


STORY_OBJECTS = _s("""an old brass compass|a red umbrella|a broken clock|a jar of honey|a forgotten
diary|a paper airplane|a silver key|a lost glove|a bag of seeds|a chess set|a torn ticket|a wooden
flute""")


GENRES = _s("""funny|mystery|science fiction|bedtime|adventure|heartwarming|spooky|fairy-tale""")


NATURE = _s("""autumn leaves|the first snowfall|a summer thunderstorm|the ocean at night|a quiet
forest|spring rain|a city at dawn|the moon over a lake|a field of sunflowers|morning fog|a mountain
river|shooting stars|a garden after rain|the last warm day of the year""")


RECIPIENTS = _s("""your landlord|a former colleague|your child's teacher|a hiring manager|your
team|a hotel manager|a customer|your neighbor|a professor|a conference organizer|your bank| the
city council""")


PURPOSES = _s("""to ask for a repair in the kitchen|to thank them for their help on a project|to ask
for an extension on a deadline|to apologize for missing a meeting|to invite them to a farewell
party|to follow up after a job interview|to request a refund for a late delivery|to introduce a new
team member|to confirm the details of an upcoming visit|to complain politely about noise late at
night|to ask for a letter of recommendation|to announce a change in office hours""")


EVENTS = _s("""the opening of a new community garden|a charity run next Saturday|the launch of our
new mobile app|a free coding workshop for teenagers|a summer sale on all shoes|extended library
hours during exams|a new vegan menu at our cafe|a book signing with a local author|a beach clean-up
this Sunday|a blood donation drive at the town hall|a used-clothing swap|a neighborhood street
party""")


BUSINESSES = _s("""a vegan bakery|a dog-walking service|a bike repair shop|a tutoring center for
math|a plant nursery|a coffee truck|a used bookstore|a yoga studio|a cleaning company that uses
only natural products|a mobile car wash|an app that helps friends split bills|a shop selling
handmade candles|a language exchange club|a furniture restoration workshop|a meal-prep delivery
service|a climbing gym""")


NAME_WORDS = (
    _s("""Golden|Little|Happy|Green|Urban|Cozy|Bright|Wild|Honest|Daily|Second|Open"""),
    _s("""Crumb|Paw|Spoke|Leaf|Bean|Page|Wick|Nest|Sprout|Lantern|Harbor|Anchor"""),
)


ROLES = _s("""a customer and a shop assistant|a doctor and a patient|two friends planning a trip| a
teacher and a student|a job candidate and an interviewer|a tourist and a local|a waiter and a
diner|a parent and a teenager|two coworkers|a librarian and a visitor|a coach and a player|a
landlord and a tenant""")


SOURCES = _s("""a school essay|a work email|a blog post|a cover letter|a text message|a news
article|a product page|a travel diary|a lab report|a team chat|a novel draft|a community
newsletter|a support ticket|a social media post|a recipe card|a job posting|a history textbook|a
museum guide""")


SITES = _s("""an online store|a travel forum|a food blog|a social network|a local community board|an
app store|a price comparison site|a neighborhood group chat|a review website|a company survey|a
parenting forum""")


NEWS_SOURCES = _s("""a local newspaper|a business website|a national daily|a news app|a student
paper|a weekly magazine|a wire service|a morning radio bulletin|a science magazine|a sports blog|an
evening bulletin|a regional TV station's website""")
