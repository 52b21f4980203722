"""`python -m aks_connector`: the same as the `aks-connector` console script."""

from aks_connector.app import main

if __name__ == "__main__":
    main()
