import OrbitCore
import OrbitStore
import PostgresNIO
