"""Streamlit helpers shared by app.py and the pages: login, sidebar filters, caches, drawing."""
