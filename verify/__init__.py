"""polyak.verify"""
