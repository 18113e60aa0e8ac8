"""polyak.papers"""
