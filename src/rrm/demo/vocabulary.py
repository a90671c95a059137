"""Word lists the scenario generator draws from: names, topics, news outlets, campaign messages.

All of it is invented or generic; the news domains are real outlets' domains (links only, no
content), and the campaign domains imitate the look-alike domains of documented operations such as
Doppelgänger, without being any of them.
"""

from __future__ import annotations

__all__ = [
    "BIO_WORDS",
    "CAMPAIGN_CLIENTS",
    "CAMPAIGN_DOMAINS",
    "CAMPAIGN_TEASERS",
    "CLIENTS",
    "CLIENT_WEIGHTS",
    "COMMENTS",
    "COPY_PASTE_MESSAGES",
    "DEBATE_HASHTAGS",
    "EMOJI",
    "FIRST_NAMES",
    "HASHTAGS",
    "LOCATIONS",
    "NEWS_DOMAINS",
    "NEWS_SECTIONS",
    "OPENERS",
    "PUSH_WORDS",
    "SHORTENERS",
    "SUBJECTS",
    "SURNAMES",
    "SWARM_INSULTS",
    "SYNONYMS",
    "TRACKING_SOURCES",
    "WORDS",
]

FIRST_NAMES = ["anna", "lena", "maria", "sophie", "laura", "julia", "emma", "mia", "lea", "sarah", "hannah", "lisa", "marie", "clara", "nina", "paula", "jana", "eva", "lukas", "jonas", "leon", "finn", "paul", "ben", "elias", "noah", "felix", "max", "tim", "jan", "david", "tom", "niklas", "simon", "luca", "moritz", "olivia", "amelia", "isla", "ava", "grace", "chloe", "lily", "ella", "ruby", "evie", "freya", "jack", "harry", "oliver", "george", "charlie", "jacob", "thomas", "james", "william", "oscar", "henry", "lucas", "pierre", "louis", "hugo", "jules", "chiara", "giulia", "marco", "luca", "andrea", "sofia", "pablo", "carlos", "lucia", "martina", "piotr", "anja", "katarzyna", "tomasz", "jakub", "ingrid", "lars", "sven", "erik", "astrid"]

SURNAMES = ["smith", "jones", "taylor", "brown", "wilson", "evans", "thomas", "johnson", "roberts", "walker", "wright", "robinson", "thompson", "white", "hughes", "edwards", "green", "hall", "wood", "harris", "martin", "jackson", "clarke", "mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker", "schulz", "hoffmann", "koch", "richter", "klein", "wolf", "neumann", "schwarz", "braun", "zimmermann", "dubois", "moreau", "laurent", "simon", "michel", "lefebvre", "leroy", "rossi", "russo", "ferrari", "esposito", "bianchi", "romano", "garcia", "fernandez", "lopez", "martinez", "sanchez", "perez", "nowak", "kowalski", "wisniewski", "jensen", "nielsen", "hansen", "andersson", "johansson", "karlsson", "nilsson", "novak", "horvat", "kovac"]

BIO_WORDS = ["journalist", "dad", "mum", "teacher", "nurse", "engineer", "runner", "reader", "coffee", "football", "music", "politics", "news", "science", "climate", "history", "photographer", "student", "researcher", "lawyer", "gardener", "cyclist", "gamer", "writer", "views-my-own", "retired", "entrepreneur", "europe", "local-news", "traveller", "baker", "hiker", "cat-person", "dog-lover"]

LOCATIONS = (
    "Berlin", "Hamburg", "Munich", "Cologne", "London", "Manchester", "Paris", "Lyon", "Brussels",
    "Amsterdam", "Vienna", "Warsaw", "Prague", "Madrid", "Rome", "Milan", "Stockholm", "Copenhagen",
    "Dublin", "Lisbon", "Europe", "Germany", "France", "UK", "", "", "", "", "", "",
)

CLIENTS = ("Twitter for Android", "Twitter for iPhone", "Twitter Web App", "Twitter for iPad", "TweetDeck")
CLIENT_WEIGHTS = (0.42, 0.33, 0.18, 0.03, 0.04)
CAMPAIGN_CLIENTS = ("Twitter Web App", "Twitter for Android", "Hootsuite Inc.", "SocialOomph", "IFTTT")

OPENERS = (
    "honestly", "so", "just saw", "can't believe", "interesting", "wow", "unpopular opinion:", "reminder:",
    "thread:", "breaking:", "good morning", "well", "again", "today", "finally", "ok so", "hot take:",
    "not surprised", "this is big", "read this", "worth a read", "great piece", "important", "listen",
)

SUBJECTS = (
    "the election", "the new budget", "energy prices", "the heat wave", "the train strike", "the summit",
    "the debate", "the football", "rent prices", "the new bike lanes", "the council vote", "inflation",
    "the farmers' protest", "the health reform", "the school holidays", "the migration deal", "the polls",
    "the climate plan", "the housing crisis", "the pension reform", "the final", "the concert",
    "the EU parliament", "the coalition", "the minister", "the interview", "the tax plan", "the weather",
)

COMMENTS = (
    "is all anyone talks about", "makes no sense to me", "looks promising", "was a disaster", "is overdue",
    "is more complicated than it looks", "could change everything", "is getting out of hand",
    "deserves more attention", "was better than expected", "needs a proper debate", "is finally happening",
    "will hit families hardest", "is a good start", "is going nowhere", "surprised me", "is not the answer",
    "was the highlight of the week", "keeps getting worse", "is why I vote", "needs better coverage",
)

WORDS = ["people", "time", "today", "week", "really", "think", "know", "good", "new", "still", "need", "work", "year", "back", "going", "great", "day", "government", "city", "country", "vote", "party", "plan", "money", "price", "school", "health", "family", "friends", "local", "europe", "news", "story", "report", "data", "study", "question", "answer", "problem", "change", "future", "help", "support", "share", "watch", "read", "tonight", "morning", "evening", "weekend", "again", "maybe", "probably", "clearly", "actually", "agree", "disagree", "idea", "interesting", "important", "serious", "funny", "sad", "happy", "angry", "tired", "busy", "train", "bus", "bike", "car", "energy", "heat", "water", "food", "market", "shop", "rent", "house", "street", "park", "team", "match", "goal", "game", "season", "coach", "player", "fans", "minister", "leader", "debate", "speech", "interview", "poll", "result", "turnout", "campaign", "policy", "reform", "budget", "tax"]

EMOJI = ("", "", "", "", "👍", "😂", "🙄", "🔥", "👏", "🤔", "😡", "❤️", "🇪🇺", "⚽", "📺", "‼️", "👇", "💯")

HASHTAGS = (
    "news", "politics", "europe", "eu", "climate", "energy", "football", "bundesliga", "election",
    "breaking", "economy", "inflation", "health", "education", "housing", "berlin", "london", "paris",
    "tech", "ai", "science", "music", "tv", "weather", "heatwave", "summer", "travel", "rent", "strike",
    "budget", "ukraine", "nato", "migration", "farmers", "pensions", "tax", "jobs", "cycling", "cinema",
    "books", "art", "history", "space", "olympics", "tennis", "formula1", "gaming", "food", "coffee",
    "mondaymotivation", "fridayfeeling", "tbt", "photography", "nature", "dogs", "cats", "running",
)

DEBATE_HASHTAGS = (("tvdebate",), ("tvdebate", "election2024"), ("debatenight",), ("tvdebate", "factcheck"))

NEWS_DOMAINS = (
    "bbc.co.uk", "theguardian.com", "reuters.com", "apnews.com", "spiegel.de", "zeit.de", "faz.net",
    "sueddeutsche.de", "tagesschau.de", "lemonde.fr", "lefigaro.fr", "politico.eu", "euronews.com",
    "dw.com", "ft.com", "nytimes.com", "washingtonpost.com", "elpais.com", "corriere.it", "nos.nl",
    "independent.co.uk", "bild.de", "welt.de", "liberation.fr", "euractiv.com",
)
NEWS_SECTIONS = ("politics", "world", "europe", "business", "science", "sport", "culture", "climate", "tech")

SHORTENERS = ("bit.ly", "trib.al", "dlvr.it", "buff.ly", "ow.ly")

TRACKING_SOURCES = (
    "utm_source=twitter&utm_medium=social",
    "utm_source=twitter&utm_medium=social&utm_campaign=share",
    "utm_source=dlvr.it&utm_medium=twitter",
    "at_medium=custom7&at_campaign=twitter",
    "ref=twitter",
    "s=09",
)

CAMPAIGN_DOMAINS = (
    "spiegel.ltd", "bild.work", "welt.pm", "theguardian.co.com", "washingtonpost.pm", "leparisien.top",
    "faz.agency", "tagesspiegel.ltd", "lemonde.cam", "ria-news.life", "eurotruth.info", "realnews24.online",
    "free-europe-voice.net", "peace-not-war.org.ru", "the-truth-about.eu", "independent-view.news",
)

CAMPAIGN_TEASERS = (
    "They don't want you to read this", "Finally someone says it", "Read before it gets deleted",
    "The truth about the sanctions", "What the media won't tell you", "Shocking new report",
    "Europe is paying the price", "Everyone should see this", "Wake up", "This explains everything",
    "Must read", "The real story", "Share this everywhere", "Unbelievable",
)

COPY_PASTE_MESSAGES = (
    "Sanctions are destroying our economy while {m} looks away. Families can't pay their bills anymore!",
    "Why is {m} sending our money abroad when our own hospitals are falling apart? Enough is enough.",
    "Energy prices tripled and {m} still refuses to talk about peace. Who benefits from this war?",
    "Our farmers are dying and {m} only cares about foreign interests. Stand with the farmers!",
    "The elections are rigged against ordinary people. {m} knows it and says nothing.",
    "Nobody voted for this. {m} must resign now and give the people a real choice.",
    "{m} promised lower prices. Instead we got war, inflation and censorship. Remember in November!",
    "Another day, another lie from {m}. The media covers it up as always.",
)

SYNONYMS = {
    "destroying": ("ruining", "killing", "wrecking"),
    "families": ("people", "ordinary families", "working families"),
    "money": ("taxes", "billions", "cash"),
    "enough": ("Enough", "ENOUGH", "enough!"),
    "tripled": ("doubled", "exploded", "skyrocketed"),
    "dying": ("suffering", "going bankrupt", "struggling"),
    "rigged": ("stacked", "fixed", "manipulated"),
    "resign": ("go", "step down", "quit"),
    "lie": ("lie", "false promise", "fairy tale"),
    "war": ("war", "endless war", "this war"),
}

PUSH_WORDS = (
    "stop", "no", "end", "wake", "truth", "peace", "free", "real", "save", "exit", "out", "never",
    "shame", "lies", "sanctions", "war", "europe", "nato", "eu", "vote", "people", "now", "together",
)

SWARM_INSULTS = (
    "Paid propaganda as usual.", "Who pays you for this?", "Fake news again.", "Delete this.",
    "Nobody believes you anymore.", "Shame on you.", "You are lying and you know it.",
    "Another hit piece.", "Stop spreading lies.", "Biased as always.", "Typical mainstream garbage.",
    "Your days are numbered.", "Resign.", "Pathetic.", "Do your job properly for once.",
)
