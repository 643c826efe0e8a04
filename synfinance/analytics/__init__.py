"""What a dataset holds, for people: volumes by segment, category, city, hour and day, festival lift, and fraud
and anomalies by type and severity (`synfinance generate report`)."""
