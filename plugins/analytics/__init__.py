"""Customer analytics: RFM, profitability, CLV (historical and BG/NBD), churn risk, KPIs."""
