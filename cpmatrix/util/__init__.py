"""What every layer uses: errors, console output, bounded readers, atomic writes, locks."""
