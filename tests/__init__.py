"""qiangji's tests: unit/, integration/ and reliability/, with their helpers in support/."""
