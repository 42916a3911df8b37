"""Print the demo database's tables, row counts and a few report rows."""

from __future__ import annotations

import sys

import duckdb


def main(path: str) -> None:
    """Summarise the DuckDB file the demo loaded."""
    connection = duckdb.connect(path, read_only=True)
    tables = connection.sql(
        "select table_schema, table_name from information_schema.tables order by table_name"
    ).fetchall()
    print(f"{'table':<40} {'rows':>8}")
    for schema, table in tables:
        count = connection.sql(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        print(f"{schema + '.' + table:<40} {count:>8}")
    if any(table == "campaign_report_daily" for _, table in tables):
        print("\nA few rows of campaign_report_daily (spend and conversions per campaign per day):")
        print(
            connection.sql(
                "select advertiser_id, campaign_name, stat_time_day, spend, impressions, clicks, "
                "conversion from tiktok.campaign_report_daily order by stat_time_day desc, spend desc limit 8"
            )
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "output/tiktok_demo.duckdb")
