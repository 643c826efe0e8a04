"""Indian cities the population lives in: tier, state, region, coordinates, population."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class City:
    name: str
    code: str
    state: str
    region: str
    tier: int
    latitude: float
    longitude: float
    population_m: float  # urban agglomeration, millions (census-scale, rounded)


CITIES: tuple[City, ...] = (
    # Tier 1
    City("Mumbai", "MUM", "Maharashtra", "West", 1, 19.0760, 72.8777, 20.7),
    City("Delhi", "DEL", "Delhi", "North", 1, 28.7041, 77.1025, 19.0),
    City("Bengaluru", "BLR", "Karnataka", "South", 1, 12.9716, 77.5946, 12.3),
    City("Hyderabad", "HYD", "Telangana", "South", 1, 17.3850, 78.4867, 10.0),
    City("Chennai", "MAA", "Tamil Nadu", "South", 1, 13.0827, 80.2707, 10.9),
    City("Kolkata", "CCU", "West Bengal", "East", 1, 22.5726, 88.3639, 14.9),
    City("Pune", "PNQ", "Maharashtra", "West", 1, 18.5204, 73.8567, 6.6),
    City("Ahmedabad", "AMD", "Gujarat", "West", 1, 23.0225, 72.5714, 8.0),
    # Tier 2
    City("Jaipur", "JAI", "Rajasthan", "North", 2, 26.9124, 75.7873, 3.9),
    City("Lucknow", "LKO", "Uttar Pradesh", "North", 2, 26.8467, 80.9462, 3.6),
    City("Kochi", "COK", "Kerala", "South", 2, 9.9312, 76.2673, 2.1),
    City("Chandigarh", "IXC", "Chandigarh", "North", 2, 30.7333, 76.7794, 1.2),
    City("Indore", "IDR", "Madhya Pradesh", "Central", 2, 22.7196, 75.8577, 2.2),
    City("Bhopal", "BHO", "Madhya Pradesh", "Central", 2, 23.2599, 77.4126, 1.9),
    City("Nagpur", "NAG", "Maharashtra", "Central", 2, 21.1458, 79.0882, 2.5),
    City("Coimbatore", "CJB", "Tamil Nadu", "South", 2, 11.0168, 76.9558, 2.2),
    City("Visakhapatnam", "VTZ", "Andhra Pradesh", "South", 2, 17.6868, 83.2185, 2.0),
    City("Surat", "STV", "Gujarat", "West", 2, 21.1702, 72.8311, 6.1),
    # Tier 3
    City("Guwahati", "GAU", "Assam", "Northeast", 3, 26.1445, 91.7362, 1.1),
    City("Bhubaneswar", "BBI", "Odisha", "East", 3, 20.2961, 85.8245, 0.9),
    City("Patna", "PAT", "Bihar", "East", 3, 25.5941, 85.1376, 2.0),
    City("Dehradun", "DED", "Uttarakhand", "North", 3, 30.3165, 78.0322, 0.7),
    City("Mysuru", "MYQ", "Karnataka", "South", 3, 12.2958, 76.6394, 1.0),
    City("Thiruvananthapuram", "TRV", "Kerala", "South", 3, 8.5241, 76.9366, 1.0),
    City("Madurai", "IXM", "Tamil Nadu", "South", 3, 9.9252, 78.1198, 1.5),
    City("Ranchi", "IXR", "Jharkhand", "East", 3, 23.3441, 85.3096, 1.1),
)

CITY_NAMES = tuple(c.name for c in CITIES)
CITY_LAT = np.array([c.latitude for c in CITIES])
CITY_LON = np.array([c.longitude for c in CITIES])
CITY_TIER = np.array([c.tier for c in CITIES], dtype=np.int8)
CITY_WEIGHT = np.array([c.population_m for c in CITIES]) / sum(c.population_m for c in CITIES)
CITY_STATES = tuple(c.state for c in CITIES)
CITY_REGIONS = tuple(c.region for c in CITIES)
ONLINE_HUBS = tuple(CITY_NAMES.index(n) for n in ("Bengaluru", "Mumbai", "Delhi"))

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km between arrays of points given in degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
