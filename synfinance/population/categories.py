"""Spending categories: subcategories with merchant category codes, chain brands, amount scale."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synfinance.population.calibration import calibration


@dataclass(frozen=True)
class Category:
    name: str
    code: str
    median_inr: float  # median ticket for a Middle-income customer
    sigma: float  # log-normal spread of the ticket size
    online_share: float  # share bought online by a customer of average online preference
    subcategories: tuple[tuple[str, int], ...]  # (name, MCC)
    chains: tuple[tuple[str, str], ...]  # (brand, subcategory)
    local_words: tuple[str, ...]  # how local shops of this kind are named
    demand: float = 1.0  # 0: never chosen as a purchase (transfers are drawn apart, as P2P payments)
    payees: bool = False  # its "merchants" are people: the payees of person-to-person transfers


CATEGORIES: tuple[Category, ...] = (
    Category(
        "Groceries", "GRO", 850.0, 0.75, 0.25,
        (("Supermarket", 5411), ("Kirana Store", 5411), ("Online Grocery", 5411), ("Dairy", 5451)),
        (("DMart", "Supermarket"), ("Reliance Fresh", "Supermarket"), ("BigBasket", "Online Grocery"),
         ("More Supermarket", "Supermarket"), ("Blinkit", "Online Grocery"), ("Amul Parlour", "Dairy")),
        ("General Store", "Kirana", "Provision Store", "Dairy"),
    ),
    Category(
        "Food & Dining", "FOO", 420.0, 0.7, 0.45,
        (("Restaurant", 5812), ("Fast Food", 5814), ("Food Delivery", 5814), ("Cafe", 5814)),
        (("Swiggy", "Food Delivery"), ("Zomato", "Food Delivery"), ("Domino's", "Fast Food"),
         ("McDonald's", "Fast Food"), ("Haldiram's", "Restaurant"), ("Cafe Coffee Day", "Cafe")),
        ("Restaurant", "Dhaba", "Bhojanalaya", "Cafe", "Tiffin Centre"),
    ),
    Category(
        "Fuel", "FUE", 1400.0, 0.5, 0.0,
        (("Petrol Pump", 5541), ("CNG Station", 5542)),
        (("Indian Oil", "Petrol Pump"), ("Bharat Petroleum", "Petrol Pump"), ("HP Petrol", "Petrol Pump"),
         ("Shell", "Petrol Pump"), ("Indraprastha Gas", "CNG Station")),
        ("Fuel Station", "Service Station"),
    ),
    Category(
        "Fashion", "FAS", 1800.0, 0.8, 0.45,
        (("Clothing", 5651), ("Footwear", 5661), ("Accessories", 5948)),
        (("Myntra", "Clothing"), ("Lifestyle", "Clothing"), ("Pantaloons", "Clothing"),
         ("Westside", "Clothing"), ("Bata", "Footwear"), ("Ajio", "Clothing")),
        ("Garments", "Cloth House", "Footwear", "Boutique"),
    ),
    Category(
        "Electronics", "ELE", 9000.0, 1.0, 0.55,
        (("Mobile Phones", 5732), ("Appliances", 5722), ("Computers", 5734)),
        (("Croma", "Appliances"), ("Reliance Digital", "Appliances"), ("Vijay Sales", "Appliances"),
         ("Flipkart", "Mobile Phones"), ("Amazon", "Computers"), ("Samsung SmartPlaza", "Mobile Phones")),
        ("Electronics", "Mobile Centre", "Electricals"),
    ),
    Category(
        "Jewellery", "JEW", 22000.0, 1.0, 0.15,
        (("Gold", 5944), ("Silver", 5944), ("Diamond", 5944)),
        (("Tanishq", "Gold"), ("Kalyan Jewellers", "Gold"), ("Malabar Gold", "Gold"),
         ("CaratLane", "Diamond"), ("PC Jeweller", "Gold")),
        ("Jewellers", "Sonar", "Gold House"),
    ),
    Category(
        "Travel", "TRA", 3500.0, 1.1, 0.75,
        (("Airlines", 4511), ("Railways", 4112), ("Hotels", 7011), ("Cab", 4121), ("Bus", 4131)),
        (("IndiGo", "Airlines"), ("IRCTC", "Railways"), ("MakeMyTrip", "Hotels"), ("OYO", "Hotels"),
         ("Ola", "Cab"), ("Uber", "Cab"), ("RedBus", "Bus")),
        ("Travels", "Tours", "Lodge"),
    ),
    Category(
        "Entertainment", "ENT", 550.0, 0.7, 0.6,
        (("Movies", 7832), ("Streaming", 4899), ("Events", 7922), ("Gaming", 7994)),
        (("PVR INOX", "Movies"), ("BookMyShow", "Events"), ("Netflix", "Streaming"),
         ("JioHotstar", "Streaming"), ("Cinepolis", "Movies")),
        ("Cinema", "Gaming Zone", "Amusement"),
    ),
    Category(
        "Utilities", "UTI", 1300.0, 0.6, 0.8,
        (("Electricity", 4900), ("Mobile Recharge", 4814), ("Broadband", 4814), ("Gas", 4900)),
        (("Airtel", "Mobile Recharge"), ("Jio", "Mobile Recharge"), ("Tata Power", "Electricity"),
         ("BSES", "Electricity"), ("ACT Fibernet", "Broadband"), ("Mahanagar Gas", "Gas")),
        ("Recharge Point", "Cable Network"),
    ),
    Category(
        "Healthcare", "HEA", 900.0, 0.9, 0.3,
        (("Pharmacy", 5912), ("Hospital", 8062), ("Diagnostics", 8071), ("Clinic", 8011)),
        (("Apollo Pharmacy", "Pharmacy"), ("MedPlus", "Pharmacy"), ("Tata 1mg", "Pharmacy"),
         ("Fortis", "Hospital"), ("Dr Lal PathLabs", "Diagnostics")),
        ("Medical Store", "Clinic", "Chemist"),
    ),
    Category(
        "Education", "EDU", 6000.0, 1.0, 0.6,
        (("School Fees", 8211), ("Coaching", 8299), ("Online Courses", 8299), ("Books", 5942)),
        (("BYJU'S", "Online Courses"), ("Unacademy", "Online Courses"), ("Aakash", "Coaching"),
         ("Crossword", "Books"), ("Physics Wallah", "Online Courses")),
        ("Academy", "Coaching Centre", "Book Depot"),
    ),
    Category(
        "Sweets & Gifts", "GIF", 700.0, 0.8, 0.35,
        (("Sweets", 5441), ("Gifts", 5947), ("Flowers", 5992)),
        (("Haldiram's Sweets", "Sweets"), ("Bikanervala", "Sweets"), ("Archies", "Gifts"),
         ("Ferns N Petals", "Flowers"), ("Chitale Bandhu", "Sweets")),
        ("Sweets", "Mithai Bhandar", "Gift Centre", "Florist"),
    ),
    Category(  # person-to-person transfers: family, rent, shared bills, gifts (and money-mule networks)
        "Transfers", "TRF", 6000.0, 0.8, 1.0,
        (("UPI Transfer", 4829), ("IMPS Transfer", 4829), ("Wallet Transfer", 6540)),
        (), (), demand=0.0, payees=True,
    ),
)

CATEGORY_NAMES = tuple(c.name for c in CATEGORIES)
N_CATEGORIES = len(CATEGORIES)
# The median tickets above are relative; the calibration table's scale sets them to the published ticket sizes.
CATEGORY_MEDIAN_INR = np.array([c.median_inr for c in CATEGORIES]) * calibration().model.p2m.amount_scale
CATEGORY_SIGMA = np.array([c.sigma for c in CATEGORIES])
CATEGORY_ONLINE_SHARE = np.array([c.online_share for c in CATEGORIES])


def category_index(name: str) -> int:
    return CATEGORY_NAMES.index(name)
